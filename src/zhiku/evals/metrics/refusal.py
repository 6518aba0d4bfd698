"""Refusal correctness: refuse when the answer is not in the data, and only then."""

from __future__ import annotations


def refusal_correct(answerable: bool, refused: bool) -> float:
    """1.0 when the system refused exactly when the question is unanswerable."""
    return 1.0 if refused != answerable else 0.0


def refusal_rates(answerable: bool, refused: bool) -> dict[str, float]:
    """``false_refusal`` for an answerable question, ``correct_refusal`` for an unanswerable
    one: averaged over a mixed set, the two rates a grounded assistant is judged by."""
    if answerable:
        return {"false_refusal": 1.0 if refused else 0.0}
    return {"correct_refusal": 1.0 if refused else 0.0}
