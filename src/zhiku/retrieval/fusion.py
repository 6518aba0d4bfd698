"""Fusing ranked lists: reciprocal-rank fusion (default) or weighted normalised scores."""

from __future__ import annotations

from collections.abc import Collection, Sequence

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
    """Fuse and sort best first; ties go to the item ranked higher in the first list (the
    keyword list: a rank-1 keyword hit and a rank-1 vector hit tie under RRF)."""
    scores = rrf(lists, weights, k) if method == "rrf" else weighted(lists, weights)
    first = {item: rank for rank, (item, _) in enumerate(lists[0])} if lists else {}
    unranked = len(first)
    return sorted(scores.items(), key=lambda kv: (-kv[1], first.get(kv[0], unranked), kv[0]))


def exact_first(
    fused: Sequence[tuple[int, float]], exact: Sequence[int], keyword: Collection[int]
) -> list[tuple[int, float]]:
    """``fused`` reordered so that no item found by the vector side only (not in ``keyword``)
    comes before an item of ``exact`` (chunks holding a rare query term verbatim); everything
    else keeps its fused order."""
    waiting = set(exact) & {item for item, _ in fused}
    out: list[tuple[int, float]] = []
    held: list[tuple[int, float]] = []
    for entry in fused:
        item = entry[0]
        if waiting and item not in keyword:
            held.append(entry)
            continue
        out.append(entry)
        waiting.discard(item)
        if not waiting and held:
            out += held
            held = []
    return out + held
