"""The approximate vector index of the embedded backend: an HNSW graph per (knowledge base,
model), derived from the database and kept in files beside it (see ``index.py``)."""

from __future__ import annotations

from pathlib import Path

from zhiku.core.settings import Settings
from zhiku.retrieval.ann.graph import GraphParams
from zhiku.retrieval.ann.index import AnnParams, AnnVectorIndex
from zhiku.retrieval.vector import VectorIndex
from zhiku.store.protocols import Store, VectorSearcher

__all__ = ["AnnParams", "AnnVectorIndex", "embedded_vector_index"]


def embedded_vector_index(store: Store, settings: Settings) -> VectorSearcher:
    """The vector searcher of a SQLite store: the HNSW index in ``<db>.ann/`` over exact
    search, or exact search alone when ``settings.ann`` is off."""
    from zhiku.store.sqlite.store import SqliteStore

    exact = VectorIndex(store, settings.vector_blas_threads)
    if not settings.ann or not isinstance(store, SqliteStore):
        return exact
    params = AnnParams(
        folder=Path(f"{store.db.path}.ann"),
        min_chunks=settings.ann_min_chunks,
        graph=GraphParams(
            connectivity=settings.ann_connectivity,
            ef_construction=settings.ann_ef_construction,
            ef_search=settings.ann_ef_search,
        ),
    )
    return AnnVectorIndex(store, exact, params)
