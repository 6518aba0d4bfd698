"""The hybrid searcher: BM25 and vector candidates, fused, filtered, hydrated into hits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from zhiku.models.embedders import Embedder
from zhiku.retrieval.fusion import fuse
from zhiku.retrieval.relevance import coverage, idf_weights
from zhiku.retrieval.types import Hit
from zhiku.retrieval.vector import VectorIndex
from zhiku.store.filters import SearchFilters
from zhiku.store.records import Chunk, KnowledgeBase
from zhiku.store.sqlite import SqliteStore
from zhiku.text.tokenize import analyze, has_cjk, query_terms

Mode = Literal["hybrid", "keyword", "vector"]


@dataclass(slots=True)
class SearchParams:
    """Everything that shapes one search."""

    top_k: int = 5
    mode: Mode = "hybrid"
    fusion: str = "rrf"
    rrf_k: int = 60
    vector_weight: float = 0.5
    candidates: int = 50
    min_relevance: float = 0.0
    filters: SearchFilters | None = None
    weights: dict[str, float] = field(default_factory=dict)


def index_text(heading_path: Sequence[str], text: str) -> str:
    """What is indexed and embedded for a chunk: its heading path, then its text."""
    return (" > ".join(heading_path) + "\n" + text) if heading_path else text


class HybridSearcher:
    """Searches one or more knowledge bases of a workspace."""

    def __init__(
        self,
        store: SqliteStore,
        vectors: VectorIndex,
        embedder_for: Callable[[str], Embedder],
        multilingual: Callable[[str], bool],
    ) -> None:
        self._store = store
        self._vectors = vectors
        self._embedder_for = embedder_for
        self._multilingual = multilingual

    def search(self, kbs: Sequence[KnowledgeBase], query: str, params: SearchParams) -> list[Hit]:
        """Ranked hits for ``query`` across ``kbs``."""
        terms = query_terms(query)
        kb_ids = [kb.id for kb in kbs]
        pool = max(params.candidates, params.top_k)
        keyword: list[tuple[int, float]] = []
        vector: list[tuple[int, float]] = []
        qvecs: dict[str, np.ndarray] = {}
        if params.mode in ("hybrid", "keyword"):
            keyword = self._store.keyword_search(kb_ids, terms, pool, params.filters)
        if params.mode in ("hybrid", "vector"):
            vector, qvecs = self._vector(kbs, query, pool, params.filters)
        if params.mode == "keyword":
            fused = keyword
        elif params.mode == "vector":
            fused = vector
        else:
            w = params.vector_weight
            fused = fuse([keyword, vector], [1.0 - w, w], params.fusion, params.rrf_k)
        return self._hydrate(kbs, query, terms, fused, keyword, vector, qvecs, params)

    def _vector(
        self, kbs: Sequence[KnowledgeBase], query: str, pool: int, filters: SearchFilters | None
    ) -> tuple[list[tuple[int, float]], dict[str, np.ndarray]]:
        qvecs: dict[str, np.ndarray] = {}
        found: list[tuple[int, float]] = []
        for kb in kbs:
            embedder = self._embedder_for(kb.embedder)
            if embedder.model_id not in qvecs:
                qvecs[embedder.model_id] = embedder.embed_batch([query])[0]
            allowed = None
            if filters is not None and not filters.is_empty():
                allowed = self._store.allowed_chunk_ids([kb.id], filters)
            found += self._vectors.search(
                kb.id, embedder.model_id, qvecs[embedder.model_id], pool, allowed
            )
        found.sort(key=lambda kv: -kv[1])
        return found[:pool], qvecs

    def _hydrate(
        self,
        kbs: Sequence[KnowledgeBase],
        query: str,
        terms: list[str],
        fused: list[tuple[int, float]],
        keyword: list[tuple[int, float]],
        vector: list[tuple[int, float]],
        qvecs: dict[str, np.ndarray],
        params: SearchParams,
    ) -> list[Hit]:
        kw = dict(keyword)
        vec = dict(vector)
        head = [cid for cid, _ in fused[: params.top_k * 3]]
        chunks = self._store.get_chunks(head)
        parents = self._store.get_chunks(
            [c.parent_id for c in chunks.values() if c.parent_id is not None]
        )
        docs = self._store.documents_by_id(c.document_id for c in chunks.values())
        kb_by_id = {kb.id: kb for kb in kbs}
        doc_freqs, total = self._store.term_stats(terms)
        weights = idf_weights(terms, doc_freqs, total)
        trust_vectors = not has_cjk(query)
        hits: list[Hit] = []
        seen_context: set[int] = set()
        for cid, score in fused:
            chunk = chunks.get(cid)
            if chunk is None or not chunk.enabled:
                continue
            context_id = chunk.parent_id if chunk.parent_id is not None else cid
            if context_id in seen_context:
                continue
            seen_context.add(context_id)
            kb = kb_by_id[chunk.kb_id]
            cosine = vec.get(cid)
            if cosine is None and qvecs:
                cosine = self._cosine(kb, cid, qvecs)
            cov = coverage(analyze(index_text(chunk.heading_path, chunk.text)), weights)
            vector_trusted = trust_vectors or self._multilingual(kb.embedder)
            relevance = max(cov, cosine or 0.0) if vector_trusted else cov
            if relevance < params.min_relevance:
                continue
            hits.append(self._hit(chunk, parents.get(context_id), docs, score, relevance,
                                  kw.get(cid), cosine))
            if len(hits) >= params.top_k:
                break
        return hits

    def _cosine(self, kb: KnowledgeBase, cid: int, qvecs: dict[str, np.ndarray]) -> float | None:
        model = self._embedder_for(kb.embedder).model_id
        found = self._store.vectors_for([cid], model)
        if cid not in found or model not in qvecs:
            return None
        return float(found[cid] @ qvecs[model])

    @staticmethod
    def _hit(
        chunk: Chunk,
        parent: Chunk | None,
        docs: dict[int, object],
        score: float,
        relevance: float,
        keyword: float | None,
        vector: float | None,
    ) -> Hit:
        doc = docs[chunk.document_id]
        return Hit(
            chunk_id=chunk.id,
            document_id=chunk.document_id,
            kb_id=chunk.kb_id,
            source=getattr(doc, "source", ""),
            title=getattr(doc, "title", None),
            text=parent.text if parent is not None else chunk.text,
            matched_text=chunk.text,
            heading_path=chunk.heading_path,
            page=chunk.page,
            score=score,
            relevance=round(relevance, 4),
            scores={"keyword": keyword, "vector": vector, "fused": score},
            metadata=dict(getattr(doc, "metadata", {})),
        )
