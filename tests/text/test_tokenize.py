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


def _run_by_run(text: str) -> list[str]:
    """The analysis by its definition: each Chinese run segmented by its own jieba call, its
    words (longer than one character, not stop words) then its bigrams; each Latin word."""
    import re
    import unicodedata

    import rjieba

    from zhiku.text.tokenize import ZH_STOPWORDS, _latin_tokens, fold_script

    folded = fold_script(unicodedata.normalize("NFKC", text).lower())
    cjk = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
    out: list[str] = []
    for run, word in re.findall(rf"([{cjk}]+)|([^\W_{cjk}]+)", folded):
        if not run:
            out.extend(_latin_tokens(word))
        elif len(run) == 1:
            out.extend([] if run in ZH_STOPWORDS else [run])
        else:
            out.extend(w for w in rjieba.cut(run) if len(w) > 1 and w not in ZH_STOPWORDS)
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def test_terms_are_those_of_each_run_analyzed_alone_in_order() -> None:
    texts = [
        "据新华社报道，国务院总理李克强12日主持召开国务院常务会议，部署进一步推进“放管服”改革。",
        "使用Python处理数据、Ｈｅｌｌｏ　ＷＯＲＬＤ，你好！的 了 北 中a文b中文c 中文 中文\t中文\n",
        "頭髮發展與台灣經濟；ﬁne ﬂour ①② ㍿ café naïve e\u0301 𠀀𠀁中文𪚥 丽\uf900兀 😀中文😀",
        "한국어 日本語のテキスト ｶﾀｶﾅ İstanbul ΣΑΣ running runners ran easily 的的的 我们的",
        "⾨⾺⻘ 門馬 \U0002005e\U000205e3 ㈱會社 ﹙臺灣﹚ 萬\u0301 Ｔａｉｗａｎ與ΣΑΣ",
        "",
    ]
    for text in texts:
        assert analyze(text) == _run_by_run(text), text


def test_normalize_is_nfkc_then_lower_case() -> None:
    import unicodedata

    samples = ["Ｈｅｌｌｏ，世界！", "ﬁ ① ㍿ ½ Ⅻ", "e\u0301 a\u0308\u0323 x\u0327\u0301", "ｶﾞｷﾞ",
               "\u1e9b\u0323", "𝐀𝐁 丽\uf900", "plain ascii", "Σ İ"]
    samples += [chr(c) + "\u0301" for c in range(0x20, 0x3000, 7)]
    for text in samples:
        assert normalize(text) == unicodedata.normalize("NFKC", text).lower(), text
