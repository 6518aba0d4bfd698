"""Every metric against values computed by hand."""

from __future__ import annotations

import math

import pytest

from zhiku.evals.matching import match_source, ranked_sources, source_keys
from zhiku.evals.metrics import (
    citation_precision,
    citation_recall,
    exact_match,
    hit_rate,
    mrr,
    ndcg,
    normalize_answer,
    precision,
    recall,
    refusal_correct,
    token_f1,
    tokens,
)
from zhiku.evals.metrics.aggregate import bootstrap_ci, mean, summarize
from zhiku.evals.scoring import score, strip_markers
from zhiku.evals.types import EvalQuestion

RANKED = ["a", "b", "c", "d"]
QRELS = {"b": 2, "d": 1, "e": 1, "z": 0}


def test_hit_rate() -> None:
    assert hit_rate(RANKED, QRELS, 1) == 0.0
    assert hit_rate(RANKED, QRELS, 2) == 1.0
    assert hit_rate(RANKED, {}, 4) == 0.0


def test_recall_and_precision() -> None:
    assert recall(RANKED, QRELS, 2) == pytest.approx(1 / 3)
    assert recall(RANKED, QRELS, 4) == pytest.approx(2 / 3)
    assert recall(RANKED, {}, 4) == 0.0
    assert precision(RANKED, QRELS, 4) == pytest.approx(0.5)
    assert precision(RANKED, QRELS, 10) == pytest.approx(0.2)  # trec_eval divides by k


def test_mrr() -> None:
    assert mrr(RANKED, QRELS, 4) == pytest.approx(0.5)
    assert mrr(RANKED, QRELS, 1) == 0.0
    assert mrr(["d", "b"], QRELS, 10) == 1.0


def test_ndcg_graded() -> None:
    dcg = 2 / math.log2(3) + 1 / math.log2(5)  # b (grade 2) at rank 2, d (grade 1) at rank 4
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)  # ideal [2, 1, 1]
    assert ndcg(RANKED, QRELS, 4) == pytest.approx(dcg / idcg)
    assert ndcg(RANKED, QRELS, 4) == pytest.approx(0.540586, abs=1e-6)
    assert ndcg(["b", "d", "e"], QRELS, 3) == pytest.approx(1.0)
    # Ideal DCG comes from the qrels, cut at k: grade 1 then 2 at k=1 → 0 / 2.
    assert ndcg(["d", "b"], QRELS, 1) == pytest.approx(0.5)
    assert ndcg(RANKED, {"x": 0}, 4) == 0.0


def test_tokens_chinese_by_character_english_by_word() -> None:
    assert tokens("The Eiffel Tower!") == ["eiffel", "tower"]
    assert tokens("踢爆了。") == ["踢", "爆", "了"]
    assert tokens("4分钟") == ["4", "分", "钟"]
    assert tokens("ＸｅＳＳ 1.2") == ["xess", "12"]  # NFKC, punctuation dropped as SQuAD does
    assert normalize_answer("a  Big,  dog") == "big dog"
    assert normalize_answer("玩家 以 水枪") == "玩家以水枪"


def test_exact_match() -> None:
    assert exact_match("The Eiffel Tower!", ["eiffel tower"]) == 1.0
    assert exact_match("４分钟", ["4 分钟"]) == 1.0
    assert exact_match("踢爆了", ["踢爆"]) == 0.0
    assert exact_match("x", ["y", "X."]) == 1.0


def test_token_f1() -> None:
    # English: pred {big, red, dog}, ref {red, dog, barked} → P = R = 2/3.
    assert token_f1("the big red dog", ["red dog barked"]) == pytest.approx(2 / 3)
    # Chinese: 踢 爆 了 vs 踢 爆 → P = 2/3, R = 1, F1 = 0.8.
    assert token_f1("踢爆了", ["踢爆"]) == pytest.approx(0.8)
    # Best of several references; repeated tokens count by multiplicity.
    assert token_f1("dog dog", ["cat", "dog"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert token_f1("", ["dog"]) == 0.0
    assert token_f1("anything", []) == 0.0


def test_citations() -> None:
    cited = ["/x/docs/a.md", "/x/docs/b.md", "/x/docs/a.md"]
    expected = {"a.md": 1, "c": 1, "ignored": 0}
    assert citation_precision(cited, expected) == pytest.approx(0.5)
    assert citation_recall(cited, expected) == pytest.approx(0.5)
    assert citation_precision([], expected) is None
    assert citation_recall(cited, {}) is None
    assert citation_recall(["/data/c.pdf"], expected) == pytest.approx(0.5)  # stem "c"


def test_refusal() -> None:
    assert refusal_correct(answerable=True, refused=False) == 1.0
    assert refusal_correct(answerable=True, refused=True) == 0.0
    assert refusal_correct(answerable=False, refused=True) == 1.0
    assert refusal_correct(answerable=False, refused=False) == 0.0


def test_source_matching() -> None:
    assert source_keys("/a/b/c.md") == ["/a/b/c.md", "a/b/c.md", "b/c.md", "c.md", "c"]
    assert match_source("/a/b/123.md", {"123": 1}) == "123"
    assert match_source("/a/b/c.md", {"b/c.md": 1}) == "b/c.md"
    assert match_source("/a/b/c.md", {"x/c.md": 1}) is None
    # Chunks of one document collapse to its best rank.
    assert ranked_sources(["/d/1.md", "/d/2.md", "/d/1.md", "/d/3.md"], {"3": 1}) == [
        "/d/1.md", "/d/2.md", "3"]


def test_score_one_question() -> None:
    q = EvalQuestion("q", expected_sources={"2": 1}, reference_answers=["red dog"])
    out = score(q, ["/d/1.md", "/d/2.md"], [10, 20], [1, 2],
                ("The red dog [2].", False, ["/d/2.md"]))
    assert out["hit@1"] == 0.0 and out["hit@2"] == 1.0
    assert out["mrr@2"] == 0.5
    assert out["em"] == 1.0 and out["f1"] == 1.0
    assert out["citation_precision"] == 1.0 and out["citation_recall"] == 1.0
    assert out["refusal"] == 1.0
    # Chunk-level judgement wins when chunks are expected.
    q2 = EvalQuestion("q", expected_chunks={20: 1})
    assert score(q2, ["/d/1.md", "/d/2.md"], [10, 20], [1])["hit@1"] == 0.0
    # An unanswerable question: refusing is right, no EM/F1.
    q3 = EvalQuestion("q", answerable=False, reference_answers=["x"])
    out3 = score(q3, [], [], [1], ("", True, []))
    assert out3["refusal"] == 1.0 and "em" not in out3 and "f1" not in out3
    assert "hit@1" not in out3  # nothing expected to retrieve: no retrieval metrics
    assert out3["correct_refusal"] == 1.0 and "false_refusal" not in out3


def test_mixed_set_metrics() -> None:
    q = EvalQuestion("q", expected_sources={"2": 1}, reference_answers=["fifteen days"])
    answered = score(q, [], [], [1], ("New staff get fifteen days of leave [1].", False,
                                      ["/d/2.md"]))
    assert answered["false_refusal"] == 0.0 and "correct_refusal" not in answered
    assert answered["contains_answer"] == 1.0 and answered["em"] == 0.0
    assert answered["cites_expected"] == 1.0
    wrong = score(q, [], [], [1], ("Staff get a bonus [1].", False, ["/d/9.md"]))
    assert wrong["contains_answer"] == 0.0 and wrong["cites_expected"] == 0.0
    refused = score(q, [], [], [1], ("The knowledge base does not say.", True, []))
    assert refused["false_refusal"] == 1.0
    assert "contains_answer" not in refused and "cites_expected" not in refused
    unanswerable = EvalQuestion("q", answerable=False)
    assert score(unanswerable, [], [], [1], ("Made up [1].", False, ["/d/1.md"]))[
        "correct_refusal"] == 0.0


def test_strip_markers() -> None:
    assert strip_markers("Leave is 15 days [1]. Ask HR [2, 3].") == "Leave is 15 days. Ask HR."


def test_aggregates() -> None:
    assert mean([1.0, None, 0.0]) == 0.5
    assert mean([None]) is None
    assert summarize([{"a": 1.0}, {"a": 0.0, "b": 1.0}]) == {"a": 0.5, "b": 1.0}
    assert bootstrap_ci([0.3] * 20) == (pytest.approx(0.3), pytest.approx(0.3))
