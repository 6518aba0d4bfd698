"""Refusal correctness: refuse when the answer is not in the data, and only then."""

from __future__ import annotations


def refusal_correct(answerable: bool, refused: bool) -> float:
    """1.0 when the system refused exactly when the question is unanswerable."""
    return 1.0 if refused != answerable else 0.0
