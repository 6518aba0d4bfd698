"""The optional rerank stage: a reranker reorders the top-N fused candidates.

When the reranker cannot be built, fails or times out, the fused order stands: one warning is
logged and every hit says ``reranked = False``. Hits past the top N keep their fused order
after the reranked ones (``reranked = False`` too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from zhiku.core.errors import ZhikuError
from zhiku.retrieval.types import Hit

log = logging.getLogger(__name__)

RERANK_TOP_N = 20
"""How many fused candidates are sent to the reranker unless a setting says otherwise."""


class Scorer(Protocol):
    """Scores passages against a query (``zhiku.models.rerank.RerankClient``)."""

    name: str

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        """One score per text, higher is better."""
        ...


def rerank(
    hits: list[Hit], query: str, scorer: Callable[[], Scorer], top_n: int = RERANK_TOP_N
) -> list[Hit]:
    """``hits`` with the first ``top_n`` reordered by the reranker ``scorer()`` builds."""
    head, tail = hits[:top_n], hits[top_n:]
    for h in hits:
        h.reranked = False
    if not head:
        return hits
    try:
        client = scorer()
        scores = client.scores(query, [h.text for h in head])
    except ZhikuError as exc:
        log.warning("reranking failed, keeping the fused order: %s", exc.message)
        return hits
    for h, score in zip(head, scores, strict=True):
        h.scores["fused"] = h.score
        h.scores["rerank"] = score
        h.score = score
        h.reranked = True
    return sorted(head, key=lambda h: -h.score) + tail
