"""Fit the best hits into a token budget (pure: the caller supplies the token counter)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from zhiku.retrieval.types import Hit

Counter = Callable[[str], int]
MIN_USEFUL_TOKENS = 24


@dataclass(slots=True)
class Packed:
    """The hits given to the model, in rank order, numbered from 1; what did not fit is counted."""

    hits: list[Hit] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    tokens: int = 0
    dropped: int = 0
    truncated: bool = False


def pack(
    hits: Sequence[Hit],
    budget: int,
    count: Counter,
    render: Callable[[int, Hit, str], str],
) -> Packed:
    """Greedily keep hits, best first, while their rendered blocks fit ``budget`` tokens.

    A hit too large for what is left is skipped (a smaller, lower-ranked one may fit); only the
    top hit is ever truncated, so the best evidence always goes in. ``render(n, hit, text)``
    formats a block exactly as the prompt will show it, so the count is the prompt's count.
    """
    out = Packed()
    for hit in hits:
        left = budget - out.tokens
        if left < MIN_USEFUL_TOKENS:
            out.dropped += 1
            continue
        n = len(out.hits) + 1
        block = render(n, hit, hit.text)
        cost = count(block)
        if cost > left:
            if out.hits:
                out.dropped += 1
                continue
            block, cost = _truncate(n, hit, left, count, render)
            if not block:
                out.dropped += 1
                continue
            out.truncated = True
        out.hits.append(hit)
        out.blocks.append(block)
        out.tokens += cost
    return out


def _truncate(
    n: int, hit: Hit, budget: int, count: Counter, render: Callable[[int, Hit, str], str]
) -> tuple[str, int]:
    """The longest prefix of the hit's text whose block fits ``budget`` (binary search)."""
    lo, hi, best = 0, len(hit.text), ("", 0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        block = render(n, hit, hit.text[:mid] + " …")
        cost = count(block)
        if cost <= budget:
            lo, best = mid, (block, cost)
        else:
            hi = mid - 1
    return best if lo > 0 else ("", 0)
