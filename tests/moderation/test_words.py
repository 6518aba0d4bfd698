"""Listed words: one pass over the text, robust to width, case, script and spacing, whole
words for Latin text, and the streaming filter that never lets a blocked word out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiku.moderation.guard import Moderator
from zhiku.moderation.policy import ModerationPolicy
from zhiku.moderation.store import Hit
from zhiku.moderation.words import WordList, mask, normalise

pytestmark = pytest.mark.backend("sqlite")  # touches no database: runs once


@pytest.mark.parametrize(("text", "span"), [
    ("这是敏感词吗", (2, 5)),
    ("这是敏 感\u200b词吗", (2, 7)),      # spaces and zero-width characters between
    ("這是敏感詞嗎", (2, 5)),            # the Traditional form of a Simplified entry
    ("it was ＢＡＤ luck", (7, 10)),     # full-width letters
    ("so B.a.D!", (3, 8)),               # case and punctuation between letters
])
def test_listed_words_are_found_in_their_disguises(text: str, span: tuple[int, int]) -> None:
    words = WordList([("敏感词", "block"), ("bad", "mask")])
    found = words.find(text)
    assert [(m.start, m.end) for m in found] == [span]


@pytest.mark.parametrize("text", ["cab address", "badge", "a bad", "abad"])
def test_latin_words_match_whole_words_only(text: str) -> None:
    found = WordList([("bad", "mask")]).find(text)
    assert bool(found) == (text == "a bad")


def test_mask_keeps_spacing_and_punctuation() -> None:
    text = "call b.a.d now"
    assert mask(text, WordList([("bad", "mask")]).find(text)) == "call *.*.* now"
    assert normalise("Ａ b")[0] == "ab"


def test_a_word_listed_twice_keeps_the_stricter_action() -> None:
    found = WordList([("机密", "mask"), ("機密", "block")]).find("公司机密")
    assert [m.action for m in found] == ["block"]


def _moderator(hits: list[Hit], *words: tuple[str, str, str]) -> Moderator:
    policy = ModerationPolicy(words=[{"word": w, "action": a, "scope": s} for w, a, s in words],
                              block_reply="不能回答")
    return Moderator(policy, hits.append)


def test_questions_and_answers_each_take_their_own_words() -> None:
    hits: list[Hit] = []
    mod = _moderator(hits, ("工资", "block", "input"), ("张三", "mask", "both"),
                     ("内部", "block", "output"))
    assert mod.check_input("张三的工资？").blocked
    assert mod.check_input("张三在哪个部门？").text == "**在哪个部门？"
    assert not mod.check_input("内部流程是什么").blocked  # answers-only word
    assert mod.check_output("这是内部文件").text == "不能回答"
    assert [(h.direction, h.action) for h in hits] == [
        ("input", "block"), ("input", "mask"), ("output", "block")]
    assert all("工资" not in h.excerpt and "内部" not in h.excerpt for h in hits)


def test_the_stream_filter_releases_nothing_of_a_blocked_word() -> None:
    hits: list[Hit] = []
    mod = _moderator(hits, ("机密", "block", "output"), ("张三", "mask", "output"))
    stream = mod.output_filter("hr", "chat")
    sent = "".join(stream.feed(p) for p in ["张", "三今年有", "十天年假。" * 5, "另外这是机", "密"])
    assert stream.blocked and stream.finish() == ""
    assert "机" not in sent and "张三" not in sent and sent.startswith("**今年有")
    assert hits[-1].app == "hr" and hits[-1].channel == "chat"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="机密张三 年假。ab*", max_size=60),
       st.lists(st.integers(1, 7), max_size=30))
def test_no_split_of_an_answer_lets_a_listed_word_out(text: str, cuts: list[int]) -> None:
    mod = _moderator([], ("机密", "block", "output"), ("张三", "mask", "output"))
    stream = mod.output_filter()
    pieces, rest = [], text
    for n in cuts:
        pieces.append(rest[:n])
        rest = rest[n:]
    pieces.append(rest)
    sent = "".join(stream.feed(p) for p in pieces) + stream.finish()
    whole = mod.words_only(text, "output")
    assert stream.blocked == whole.blocked
    if not whole.blocked:
        assert sent == whole.text  # the same masking as checking the whole answer
    # no listed word is left readable (a mask character counts as a letter here: masking 张三
    # in 机张三密 shows 机**密, which reads as no word)
    assert not WordList([("机密", "block"), ("张三", "mask")]).find(sent.replace("*", "■"))
