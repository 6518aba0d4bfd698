"""Scoring one question: retrieval metrics at several cut-offs and, with an answer, answer metrics.

Pure: takes what the target returned, gives ``{metric name: value}``. Metric names are
``hit@k``, ``recall@k``, ``ndcg@k``, ``mrr@K`` (K = the deepest cut-off), ``em``, ``f1``,
``citation_precision``, ``citation_recall``, ``refusal``; for mixed answerable/unanswerable
sets ``false_refusal`` and ``correct_refusal``, and for answered questions ``contains_answer``,
``reference_recall`` (the share of a reference's tokens in the answer) and ``cites_expected``
(a cited source is an expected one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from zhiku.evals.matching import ranked_chunks, ranked_sources
from zhiku.evals.metrics import (
    citation_precision,
    citation_recall,
    contains_answer,
    exact_match,
    hit_rate,
    mrr,
    ndcg,
    recall,
    refusal_correct,
    refusal_rates,
    token_f1,
    token_recall,
)
from zhiku.evals.types import EvalQuestion

DEFAULT_KS = (1, 3, 5, 10)
_MARKER = re.compile(r"\s*\[\d+(?:,\s*\d+)*\]")


def strip_markers(answer: str) -> str:
    """The answer without its ``[n]`` citation markers."""
    return _MARKER.sub("", answer).strip()


def judged_ranking(
    q: EvalQuestion, sources: Sequence[str], chunk_ids: Sequence[int]
) -> tuple[list[str], dict[str, int]] | None:
    """The ranking and qrels to judge: by chunk when chunks are expected, else by document."""
    if q.expected_chunks:
        return ranked_chunks(chunk_ids), {str(k): v for k, v in q.expected_chunks.items()}
    if q.expected_sources:
        return ranked_sources(sources, q.expected_sources), q.expected_sources
    return None


def retrieval_metrics(
    ranked: Sequence[str], qrels: dict[str, int], ks: Sequence[int]
) -> dict[str, float]:
    """Hit rate, recall and nDCG at each cut-off, and MRR at the deepest one."""
    out: dict[str, float] = {}
    for k in ks:
        out[f"hit@{k}"] = hit_rate(ranked, qrels, k)
        out[f"recall@{k}"] = recall(ranked, qrels, k)
        out[f"ndcg@{k}"] = ndcg(ranked, qrels, k)
    deepest = max(ks)
    out[f"mrr@{deepest}"] = mrr(ranked, qrels, deepest)
    return out


def answer_metrics(
    q: EvalQuestion, answer: str, refused: bool, cited_sources: Sequence[str]
) -> dict[str, float]:
    """Exact match, F1, citation precision/recall and refusal correctness, where defined."""
    out: dict[str, float] = {"refusal": refusal_correct(q.answerable, refused)}
    out.update(refusal_rates(q.answerable, refused))
    if q.answerable and q.reference_answers:
        text = "" if refused else strip_markers(answer)
        out["em"] = exact_match(text, q.reference_answers)
        out["f1"] = token_f1(text, q.reference_answers)
        if not refused:
            out["contains_answer"] = contains_answer(text, q.reference_answers)
            out["reference_recall"] = token_recall(text, q.reference_answers)
    if q.answerable and q.expected_sources:
        cp = citation_precision(cited_sources, q.expected_sources)
        cr = citation_recall(cited_sources, q.expected_sources)
        if cp is not None:
            out["citation_precision"] = cp
        if cr is not None:
            out["citation_recall"] = cr
            if not refused:
                out["cites_expected"] = 1.0 if cr > 0 else 0.0
    return out


def score(
    q: EvalQuestion,
    sources: Sequence[str],
    chunk_ids: Sequence[int],
    ks: Sequence[int],
    answer: tuple[str, bool, Sequence[str]] | None = None,
) -> dict[str, float]:
    """Every metric that applies to ``q``; ``answer`` is (text, refused, cited sources)."""
    out: dict[str, float] = {}
    judged = judged_ranking(q, sources, chunk_ids)
    if judged is not None:
        out.update(retrieval_metrics(judged[0], judged[1], ks))
    if answer is not None:
        out.update(answer_metrics(q, *answer))
    return out
