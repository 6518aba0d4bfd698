"""The optional rerank stage: a reranker reorders the top-N fused candidates.

When the reranker cannot be built, fails or times out, the fused order stands: one warning is
logged and every hit says ``reranked = False``. Hits past the top N keep their fused order
after the reranked ones (``reranked = False`` too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from zhiku.core.errors import ZhikuError
from zhiku.retrieval.search import ChunkSearcher, SearchParams
from zhiku.retrieval.types import Hit
from zhiku.store.records import KnowledgeBase

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


class RerankingSearcher:
    """A chunk searcher whose hits pass through a reranker when one is asked for, or when a
    knowledge base searched names one (its ``reranker`` and ``rerank_top_n`` settings)."""

    def __init__(self, searcher: ChunkSearcher, scorer_for: Callable[[str], Scorer]) -> None:
        """``scorer_for(ref)`` builds the reranker of a provider/model reference."""
        self._searcher = searcher
        self._scorer_for = scorer_for

    def search(
        self,
        kbs: Sequence[KnowledgeBase],
        query: str,
        params: SearchParams,
        *,
        reranker: str | None = None,
        top_n: int | None = None,
    ) -> list[Hit]:
        """Ranked hits; the top ``top_n`` candidates reranked (see ``rerank``)."""
        ref = reranker or next(
            (str(k.settings["reranker"]) for k in kbs if k.settings.get("reranker")), None
        )
        if ref is None:
            return self._searcher.search(kbs, query, params)
        n = top_n or next(
            (int(k.settings["rerank_top_n"]) for k in kbs if k.settings.get("rerank_top_n")),
            RERANK_TOP_N,
        )
        hits = self._searcher.search(kbs, query, replace(params, top_k=max(params.top_k, n)))
        return rerank(hits, query, lambda: self._scorer_for(ref), n)[: params.top_k]
