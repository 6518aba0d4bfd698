"""Citation precision and recall: the sources an answer cites against the expected sources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from zhiku.evals.matching import match_source


def _cited_keys(cited: Sequence[str], expected: Mapping[str, int]) -> tuple[set[str], int]:
    distinct = set(cited)
    matched = {key for s in distinct if (key := match_source(s, expected)) is not None}
    return matched, len(distinct)


def citation_precision(cited: Sequence[str], expected: Mapping[str, int]) -> float | None:
    """Share of the cited documents that are expected; None when nothing is cited."""
    relevant = {k: v for k, v in expected.items() if v > 0}
    matched, n = _cited_keys(cited, relevant)
    return len(matched) / n if n else None


def citation_recall(cited: Sequence[str], expected: Mapping[str, int]) -> float | None:
    """Share of the expected documents that are cited; None when nothing is expected."""
    relevant = {k: v for k, v in expected.items() if v > 0}
    if not relevant:
        return None
    matched, _ = _cited_keys(cited, relevant)
    return len(matched) / len(relevant)
