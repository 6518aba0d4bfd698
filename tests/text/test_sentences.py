"""Sentence splitting for Chinese and English."""

from __future__ import annotations

from zhiku.text.sentences import split_sentences


def test_chinese_sentence_stops() -> None:
    assert split_sentences("第一句。第二句！第三句？第四句；最后") == [
        "第一句。", "第二句！", "第三句？", "第四句；", "最后",
    ]


def test_chinese_closing_quotes_stay_with_their_sentence() -> None:
    assert split_sentences("他说：“好的。”然后走了。") == ["他说：“好的。”", "然后走了。"]


def test_english_sentences_and_abbreviations() -> None:
    text = "Dr. Smith arrived. Leave is e.g. annual leave. It lasts 15 days."
    assert split_sentences(text) == [
        "Dr. Smith arrived.", "Leave is e.g. annual leave.", "It lasts 15 days.",
    ]


def test_decimal_numbers_are_not_sentence_ends() -> None:
    assert split_sentences("Version 3.5 is out. Pi is 3.14 or so.") == [
        "Version 3.5 is out.", "Pi is 3.14 or so.",
    ]


def test_english_full_stop_inside_closing_quote() -> None:
    assert split_sentences("He said “hi.” Then he left.") == ["He said “hi.”", "Then he left."]
    assert split_sentences('She wrote "done." Nobody replied.') == [
        'She wrote "done."', "Nobody replied.",
    ]


def test_blank_lines_and_list_items_split() -> None:
    assert split_sentences("intro\n\n- item one\n- item two") == [
        "intro", "- item one", "- item two",
    ]


def test_nothing_is_lost_and_empty_text_gives_nothing() -> None:
    text = "甲。乙！ Alpha beta. Gamma?  丙"
    pieces = split_sentences(text)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    assert split_sentences("   \n ") == []


def test_a_stop_inside_parentheses_ends_no_sentence() -> None:
    text = ("Andrew Jaspan, (b. 20 April 1952) British-Australian journalist, the co-founder of "
            "\"The Conversation\". He lives in Melbourne.")
    assert split_sentences(text) == [
        "Andrew Jaspan, (b. 20 April 1952) British-Australian journalist, the co-founder of "
        "\"The Conversation\".", "He lives in Melbourne."]
    chinese = split_sentences("王沈（字处道。太原人）。官至司空。")
    assert chinese == ["王沈（字处道。太原人）。", "官至司空。"]
    # a parenthesis left open does not swallow the rest of a long text
    unclosed = "Results (see below. " + "The effect held. " * 30
    assert len(split_sentences(unclosed)) > 10
