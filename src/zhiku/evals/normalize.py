"""Normalised question keys, to group and de-duplicate questions written slightly differently."""

from __future__ import annotations

from zhiku.evals.metrics.answers import normalize_answer


def question_key(question: str) -> str:
    """Case, width, punctuation and article-insensitive form of a question."""
    return normalize_answer(question)
