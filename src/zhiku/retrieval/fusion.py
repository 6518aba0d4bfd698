"""Fusing ranked lists: reciprocal-rank fusion (default) or weighted normalised scores."""

from __future__ import annotations

from collections.abc import Sequence

Ranked = Sequence[tuple[int, float]]


def rrf(lists: Sequence[Ranked], weights: Sequence[float], k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion: ``sum(w / (k + rank))`` over the lists an item appears in."""
    fused: dict[int, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        for rank, (item, _score) in enumerate(ranked, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def weighted(lists: Sequence[Ranked], weights: Sequence[float]) -> dict[int, float]:
    """Convex combination of min-max normalised scores (missing from a list counts as 0)."""
    fused: dict[int, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        if not ranked:
            continue
        scores = [s for _, s in ranked]
        low, high = min(scores), max(scores)
        span = high - low
        for item, score in ranked:
            norm = (score - low) / span if span > 0 else 1.0
            fused[item] = fused.get(item, 0.0) + weight * norm
    return fused


def fuse(
    lists: Sequence[Ranked], weights: Sequence[float], method: str = "rrf", k: int = 60
) -> list[tuple[int, float]]:
    """Fuse and sort best first."""
    scores = rrf(lists, weights, k) if method == "rrf" else weighted(lists, weights)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
