"""The hybrid searcher: BM25 and vector candidates, fused, filtered, hydrated into hits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from zhiku.models.embedders import Embedder
from zhiku.retrieval.fusion import exact_first, fuse
from zhiku.retrieval.hydrate import HitMaker, Window, hydrate, make_hit
from zhiku.retrieval.relevance import (
    calibrated_coverage,
    calibrated_dense,
    content_units,
    pair_relevance,
    share,
    unit_matches,
    unit_weights,
)
from zhiku.retrieval.types import Hit, Mode
from zhiku.store.filters import SearchFilters
from zhiku.store.protocols import Store, VectorSearcher
from zhiku.store.reader import PUBLIC, Reader
from zhiku.store.records import Chunk, KnowledgeBase
from zhiku.text.indexing import index_text
from zhiku.text.tokenize import analyze, has_cjk, query_terms

# The full-text query keeps the rarest terms of a long query only. BM25 scores every chunk that
# holds any query term, so a 30-character Chinese query (~40 words and bigrams, several in a
# third of all chunks) costs hundreds of milliseconds at 100k chunks. Its rarest terms carry the
# ranking: at most MAX_QUERY_TERMS of them, and no more postings than MAX_QUERY_POSTINGS once
# MIN_QUERY_TERMS are in (CMRC 2018 R@1 and SciFact nDCG@10 unchanged; see BENCHMARKS.md).
MAX_QUERY_TERMS = 16
MIN_QUERY_TERMS = 4
MAX_QUERY_POSTINGS = 10_000
# A query term held by at most this many chunks (or this share of them) is rare; when it holds a
# digit (a code, a part or invoice number) or the query is a short lookup (a name), chunks that
# hold it verbatim outrank every chunk only the vector side found. Long questions are left to
# fusion: their rare words are evidence, not identifiers.
RARE_MAX_DF = 5
LOOKUP_MAX_TERMS = 3
RARE_MAX_SHARE = 0.001


class ChunkSearcher(Protocol):
    """Searches chunks of knowledge bases (the hybrid searcher, or it with a reranker)."""

    def search(
        self, kbs: Sequence[KnowledgeBase], query: str, params: SearchParams
    ) -> list[Hit]:
        """Ranked hits for ``query`` across ``kbs``."""
        ...


def specific_terms(terms: Sequence[str], doc_freqs: Mapping[str, int]) -> list[str]:
    """The rarest query terms present in the index (see above), in query order."""
    present = [t for t in terms if doc_freqs.get(t, 0) > 0]
    keep: set[str] = set()
    postings = 0
    for t in sorted(present, key=lambda t: doc_freqs[t]):
        if len(keep) >= MAX_QUERY_TERMS or (
            len(keep) >= MIN_QUERY_TERMS and postings + doc_freqs[t] > MAX_QUERY_POSTINGS
        ):
            break
        keep.add(t)
        postings += doc_freqs[t]
    return [t for t in present if t in keep]


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
    reader: Reader = PUBLIC  # who reads: restricted documents outside its groups never show


class _DocFreqCache:
    """Document frequencies of query terms, cached for a short while (they only rank query
    terms and weigh coverage, so slightly stale counts are harmless). Zero counts are never
    cached: a term must be searchable as soon as a document containing it is written."""

    def __init__(self, store: Store, ttl: float = 30.0, max_terms: int = 100_000) -> None:
        self._store = store
        self._ttl = ttl
        self._max_terms = max_terms
        self._freqs: dict[str, int] = {}
        self._total = 0
        self._born = 0.0
        self._lock = threading.Lock()

    def get(self, terms: Sequence[str]) -> tuple[dict[str, int], int]:
        now = time.monotonic()
        with self._lock:
            if now - self._born > self._ttl or len(self._freqs) > self._max_terms:
                self._freqs, self._total, self._born = {}, 0, now
            missing = [t for t in terms if t not in self._freqs]
            if not missing and self._total:
                return {t: self._freqs[t] for t in terms}, self._total
        fetched, total = self._store.term_stats(missing or list(terms))
        with self._lock:
            self._freqs.update((t, n) for t, n in fetched.items() if n > 0)
            self._total = total
            freqs = {t: self._freqs.get(t, fetched.get(t, 0)) for t in terms}
        return {t: n for t, n in freqs.items() if n > 0}, total


class HybridSearcher:
    """Searches one or more knowledge bases of a workspace."""

    def __init__(
        self,
        store: Store,
        vectors: VectorSearcher,
        embedder_for: Callable[[str], Embedder],
    ) -> None:
        """``embedder_for(name)``: the embedder a knowledge base names (made once)."""
        self._store = store
        self._vectors = vectors
        self._embedder_for = embedder_for
        self._doc_freqs = _DocFreqCache(store)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="zhiku-search")

    def close(self) -> None:
        """End the query-embedding threads (after the searches in flight): a one-shot command
        can then leave without waiting for the interpreter's teardown."""
        self._pool.shutdown(wait=True)

    def search(self, kbs: Sequence[KnowledgeBase], query: str, params: SearchParams) -> list[Hit]:
        """Ranked hits for ``query`` across ``kbs``."""
        terms = query_terms(query)
        kb_ids = [kb.id for kb in kbs]
        pool = max(params.candidates, params.top_k)
        keyword: list[tuple[int, float]] = []
        vector: list[tuple[int, float]] = []
        qvecs: dict[str, np.ndarray] = {}
        w = params.vector_weight
        if (params.mode == "hybrid" and w > 0 and has_cjk(query)
                and not all(self._embedder_for(kb.embedder).multilingual for kb in kbs)):
            w = 0.0  # an English-only model's neighbours of a Chinese query are noise
        pending: Future[tuple[list[tuple[int, float]], dict[str, np.ndarray]]] | None = None
        if params.mode == "vector" or (params.mode == "hybrid" and w > 0):
            # The query embedding (onnxruntime) and BM25 (SQLite) both release the GIL: overlap.
            pending = self._pool.submit(
                self._vector, kbs, query, pool, params.filters, params.reader
            )
        stats = self._doc_freqs.get(terms)  # while the vector search runs
        if params.mode in ("hybrid", "keyword"):
            keyword = self._store.keyword_search(
                kb_ids, specific_terms(terms, stats[0]), pool, params.filters, params.reader
            )
        if pending is not None:
            vector, qvecs = pending.result()
        if params.mode == "keyword":
            fused = keyword
        elif params.mode == "vector":
            fused = vector
        else:
            fused = fuse([keyword, vector], [1.0 - w, w], params.fusion, params.rrf_k)
            if vector:
                fused = exact_first(fused, self._exact_hits(terms, stats, keyword),
                                    {cid for cid, _ in keyword})
        return self._hydrate(kbs, query, terms, stats, fused, keyword, vector, qvecs, params)

    def _exact_hits(
        self, terms: Sequence[str], stats: tuple[dict[str, int], int],
        keyword: Sequence[tuple[int, float]],
    ) -> list[int]:
        """Keyword hits that hold a rare query term (an identifier, a code, a name) verbatim."""
        doc_freqs, total = stats
        limit = max(RARE_MAX_DF, int(total * RARE_MAX_SHARE))
        lookup = len(terms) <= LOOKUP_MAX_TERMS
        rare = {t for t in terms if 0 < doc_freqs.get(t, 0) <= limit
                and (lookup or any(ch.isdigit() for ch in t))}
        if not rare:
            return []
        head = [cid for cid, _ in keyword[: max(doc_freqs[t] for t in rare)]]
        held = self._store.chunk_vocabulary(head)
        return [cid for cid in head if rare.intersection(held.get(cid, ()))]

    def _vector(
        self, kbs: Sequence[KnowledgeBase], query: str, pool: int, filters: SearchFilters | None,
        reader: Reader,
    ) -> tuple[list[tuple[int, float]], dict[str, np.ndarray]]:
        """Nearest chunks per knowledge base; filters and the reader's restrictions mask the
        candidates before the top ``pool`` are taken."""
        qvecs: dict[str, np.ndarray] = {}
        found: list[tuple[int, float]] = []
        for kb in kbs:
            embedder = self._embedder_for(kb.embedder)
            if embedder.model_id not in qvecs:
                qvecs[embedder.model_id] = embedder.embed_batch([query])[0]
            allowed = None
            if filters is not None and not filters.is_empty():
                allowed = self._store.allowed_chunk_ids([kb.id], filters, reader)
            found += self._vectors.search(
                kb.id, embedder.model_id, qvecs[embedder.model_id], pool, allowed, reader
            )
        found.sort(key=lambda kv: -kv[1])
        return found[:pool], qvecs

    def _hydrate(
        self,
        kbs: Sequence[KnowledgeBase],
        query: str,
        terms: list[str],
        stats: tuple[dict[str, int], int],
        fused: list[tuple[int, float]],
        keyword: list[tuple[int, float]],
        vector: list[tuple[int, float]],
        qvecs: dict[str, np.ndarray],
        params: SearchParams,
    ) -> list[Hit]:
        kw = dict(keyword)
        vec = dict(vector)
        kb_by_id = {kb.id: kb for kb in kbs}
        doc_freqs, total = stats
        units = content_units(query)
        asked = set(terms)
        missing = [u.term for u in units if u.term not in asked]
        if missing:  # content units that are not analyzer terms (a name jieba split up)
            doc_freqs = {**doc_freqs, **self._doc_freqs.get(missing)[0]}
        by_unit = unit_weights(units, doc_freqs, total)
        weights = [by_unit[u] for u in units]
        trust_vectors = not has_cjk(query)
        matched: dict[int, tuple[float, ...]] = {}

        def maker(window: Window) -> HitMaker:
            chunk_terms = self._store.chunk_vocabulary(window.ids)
            cosines: dict[int, float] | None = None

            def make(chunk: Chunk, score: float) -> Hit:
                nonlocal cosines
                kb = kb_by_id[chunk.kb_id]
                cosine = vec.get(chunk.id)
                if cosine is None and qvecs:
                    if cosines is None:  # one query for every chunk the vector list missed
                        cosines = self._cosines(kb_by_id, window.chunks, vec, qvecs)
                    cosine = cosines.get(chunk.id)
                indexed = chunk_terms.get(chunk.id)
                if indexed is None:  # not in the full-text index (a parent section, say)
                    indexed = set(analyze(index_text(chunk.heading_path, chunk.text)))
                matches = unit_matches(indexed, units)
                relevance = calibrated_coverage(share(matches, weights))
                if cosine is not None:
                    embedder = self._embedder_for(kb.embedder)
                    if trust_vectors or embedder.multilingual:
                        relevance = max(relevance, calibrated_dense(cosine, embedder.model_id))
                matched[chunk.id] = matches
                return make_hit(chunk, window.context(chunk), window.docs[chunk.document_id],
                                score, relevance,
                                {"keyword": kw.get(chunk.id), "vector": cosine, "fused": score})

            return make

        hits = hydrate(self._store, fused, params.top_k, maker, params.min_relevance,
                       reader=params.reader)
        considered = [(h, matched[h.chunk_id]) for h in hits]
        return self._with_pairs(considered, weights, params)

    @staticmethod
    def _with_pairs(
        considered: Sequence[tuple[Hit, tuple[float, ...]]], weights: Sequence[float],
        params: SearchParams,
    ) -> list[Hit]:
        """Raise each hit's relevance to what it reaches with a partner (see relevance.py),
        then keep, in fused order, the first ``top_k`` hits that reach ``min_relevance``."""
        paired = pair_relevance([m for _, m in considered], weights)
        out: list[Hit] = []
        for (hit, _), joint in zip(considered, paired, strict=True):
            hit.relevance = round(max(hit.relevance, joint), 4)
            if hit.relevance >= params.min_relevance:
                out.append(hit)
        return out[: params.top_k]

    def _cosines(
        self,
        kb_by_id: Mapping[int, KnowledgeBase],
        chunks: Mapping[int, Chunk],
        known: Mapping[int, float],
        qvecs: dict[str, np.ndarray],
    ) -> dict[int, float]:
        """Cosines of the hydrated chunks the vector list missed, one query per model."""
        by_model: dict[str, list[int]] = {}
        for cid, chunk in chunks.items():
            if cid not in known:
                model = self._embedder_for(kb_by_id[chunk.kb_id].embedder).model_id
                by_model.setdefault(model, []).append(cid)
        out: dict[int, float] = {}
        for model, ids in by_model.items():
            if model in qvecs:
                for cid, v in self._store.vectors_for(ids, model).items():
                    out[cid] = float(v @ qvecs[model])
        return out
