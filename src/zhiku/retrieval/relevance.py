"""Relevance signals that, unlike fused ranks, say whether a hit answers the query at all."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def idf_weights(terms: Sequence[str], doc_freqs: Mapping[str, int], total: int) -> dict[str, float]:
    """BM25-style IDF per query term; unseen terms get the highest weight."""
    n = max(total, 1)
    return {
        t: math.log(1.0 + (n - doc_freqs.get(t, 0) + 0.5) / (doc_freqs.get(t, 0) + 0.5))
        for t in terms
    }


def coverage(chunk_terms: Iterable[str], weights: Mapping[str, float]) -> float:
    """Share of the query's IDF mass whose terms occur in the chunk (0..1)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    present = set(chunk_terms)
    return sum(w for t, w in weights.items() if t in present) / total
