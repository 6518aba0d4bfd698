"""The keyword analyzer shared by indexing and querying."""

from __future__ import annotations

from zhiku.text.tokenize import analyze, has_cjk, normalize, query_terms


def test_chinese_gets_jieba_words_and_character_bigrams() -> None:
    terms = analyze("报销流程需要哪些材料")
    # jieba words, without the stop word 哪些
    assert {"报销", "流程", "需要", "材料"} <= set(terms)
    assert "哪些" not in terms[:4]
    # every adjacent character pair, so a different segmentation still matches
    assert {"销流", "程需", "些材"} <= set(terms)


def test_bigrams_match_across_different_segmentations() -> None:
    # The question and the passage segment 报销流程 differently; bigrams still overlap.
    question = set(analyze("报销流程"))
    passage = set(analyze("员工的差旅报销流程如下"))
    assert {"报销", "销流", "流程"} <= question & passage


def test_single_chinese_characters_and_stop_words() -> None:
    assert analyze("的") == []
    assert analyze("北") == ["北"]


def test_english_is_lowercased_stemmed_and_stop_words_dropped() -> None:
    assert analyze("The running dogs were quickly jumping") == ["run", "dog", "quick", "jump"]
    # query and document forms of a word meet on the same stem
    assert analyze("databases") == analyze("database")
    assert analyze("Leave") == analyze("leaves")


def test_full_width_forms_fold_to_ascii() -> None:
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert analyze("Ｈｅｌｌｏ") == analyze("hello")


def test_mixed_chinese_and_english() -> None:
    terms = analyze("使用Python处理数据")
    assert "python" in terms
    assert {"使用", "处理", "数据"} <= set(terms)


def test_term_frequency_is_kept_for_bm25_but_queries_are_distinct() -> None:
    once = analyze("数据").count("数据")
    assert once >= 1
    assert analyze("数据 数据").count("数据") == 2 * once
    # distinct, in order; the Traditional form follows (a query finds either script)
    assert query_terms("数据 数据 data Data") == ["数据", "data", "數據"]


def test_has_cjk() -> None:
    assert has_cjk("hello 世界")
    assert not has_cjk("hello world, café")


def test_query_bigrams_that_frame_the_question_are_left_out() -> None:
    # 的职, 业是, 是什, 什么 touch a question or function word: they say nothing of what is asked
    assert query_terms("赵鹏的职业是什么？") == ["赵鹏", "职业", "職業", "趙鵬"]
    terms = query_terms("鑫诺卫星通信有限公司哪年成立？")
    assert "年成" not in terms and {"卫星", "通信", "有限公司", "成立"} <= set(terms)
    assert query_terms("什么") == ["什么", "什麼"]  # nothing else to search for: kept
    assert query_terms("what is zhiku") == ["zhiku"]
