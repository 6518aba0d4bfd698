"""Narrow storage interfaces. The SQLite backend implements all of them; others (PostgreSQL)
must too, and the conformance tests in ``tests/store`` run against every backend."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import numpy as np

from zhiku.store.db import Database
from zhiku.store.doc_query import DocumentQuery
from zhiku.store.filters import SearchFilters
from zhiku.store.reader import Reader
from zhiku.store.records import Chunk, Document, KnowledgeBase, NewChunk


class KnowledgeBaseStore(Protocol):
    """Workspaces and knowledge bases."""

    def workspace_id(self, name: str = "default", *, create: bool = False) -> int: ...
    def create_kb(
        self, workspace_id: int, name: str, embedder: str, settings: dict[str, Any]
    ) -> KnowledgeBase: ...
    def get_kb(self, workspace_id: int, name: str) -> KnowledgeBase: ...
    def get_kb_by_id(self, kb_id: int) -> KnowledgeBase: ...
    def list_kbs(self, workspace_id: int) -> list[KnowledgeBase]: ...
    def update_kb(
        self, kb_id: int, *, embedder: str | None = None, settings: dict[str, Any] | None = None
    ) -> KnowledgeBase: ...
    def switch_embedder(self, kb_id: int, embedder: str) -> None: ...
    def delete_kb(self, kb_id: int) -> None: ...
    def kb_stats(self, kb_id: int) -> dict[str, int]: ...


class DocumentStore(Protocol):
    """Documents and their chunks, written atomically per document."""

    def find_document(self, kb_id: int, source: str) -> Document | None: ...
    def get_document(self, doc_id: int) -> Document: ...
    def list_documents(self, kb_id: int, status: str | None = None) -> list[Document]: ...
    def query_documents(
        self, kb_id: int, query: DocumentQuery, reader: Reader = ...
    ) -> tuple[list[Document], int]: ...
    def documents_by_id(self, ids: Iterable[int]) -> dict[int, Document]: ...
    def replace_document(
        self,
        kb_id: int,
        *,
        source: str,
        title: str | None,
        content_hash: str,
        fmt: str,
        size_bytes: int,
        metadata: dict[str, Any],
        chunks: Sequence[NewChunk],
        groups: Sequence[int] | str | None = ...,
    ) -> tuple[Document, list[int]]: ...
    def write_group(self) -> AbstractContextManager[object]:
        """One write transaction around several ``replace_document`` calls."""
        ...
    def record_failure(
        self, kb_id: int, *, source: str, content_hash: str, fmt: str, size_bytes: int, error: str
    ) -> None: ...
    def set_document_metadata(self, doc_id: int, metadata: dict[str, Any]) -> None: ...
    def delete_document(self, doc_id: int) -> None: ...
    def mark_ready(self, doc_ids: Iterable[int], model: str) -> list[int]: ...
    def list_chunks(self, doc_id: int) -> list[Chunk]: ...
    def get_chunks(self, ids: Sequence[int]) -> dict[int, Chunk]: ...
    def set_chunk_enabled(self, chunk_id: int, enabled: bool) -> None: ...
    def update_chunk_text(
        self, chunk_id: int, text: str, *, token_count: int, terms: Sequence[str]
    ) -> None: ...
    def set_chunk_terms(self, terms: Mapping[int, Sequence[str]]) -> None: ...


class ReaderScope(Protocol):
    """Who may read which document (``store/reader.py``)."""

    def hides_any(self, kb_ids: Sequence[int], reader: Reader) -> bool: ...
    def readable_documents(self, doc_ids: Iterable[int], reader: Reader) -> set[int]: ...
    def documents_named(
        self, kb_ids: Sequence[int], names: Iterable[str], reader: Reader
    ) -> list[tuple[str, bool]]: ...
    def document_groups(self, doc_ids: Iterable[int]) -> dict[int, list[int]]: ...
    def set_document_groups(
        self, doc_ids: Sequence[int], groups: Sequence[int] | None
    ) -> None: ...


class KeywordIndex(Protocol):
    """BM25 over pre-tokenized terms (the same analyzer on every backend), among the chunks
    a reader may read."""

    def keyword_search(
        self, kb_ids: Sequence[int], terms: Sequence[str], limit: int,
        filters: SearchFilters | None, reader: Reader = ...,
    ) -> list[tuple[int, float]]: ...
    def term_stats(self, terms: Sequence[str]) -> tuple[dict[str, int], int]: ...
    def chunk_terms(self, ids: Sequence[int]) -> dict[int, list[str]]: ...
    def allowed_chunk_ids(
        self, kb_ids: Sequence[int], filters: SearchFilters | None, reader: Reader = ...
    ) -> np.ndarray: ...


class VectorStore(Protocol):
    """Vectors per (chunk, model); indexes over them are derived and rebuildable."""

    def chunks_missing_vectors(
        self, kb_id: int, model: str, *, after_id: int = 0, limit: int = 10_000,
        parsed_only: bool = False, document_id: int | None = None,
    ) -> list[tuple[int, int, str]]: ...
    def add_vectors(
        self, kb_id: int, model: str, ids: Sequence[int], vectors: np.ndarray
    ) -> None: ...
    def drop_vectors(self, kb_id: int, model: str) -> None: ...
    def vector_version(self, kb_id: int) -> int: ...
    def load_vectors(self, kb_id: int, model: str) -> tuple[np.ndarray, np.ndarray]: ...
    def vectors_for(self, ids: Sequence[int], model: str) -> dict[int, np.ndarray]: ...


class VectorSearcher(Protocol):
    """Nearest neighbours of a query vector among one knowledge base's enabled chunks (among
    ``allowed`` ids when given) that ``reader`` may read, applied before the top ``limit``."""

    def search(
        self,
        kb_id: int,
        model: str,
        query: np.ndarray,
        limit: int,
        allowed: np.ndarray | None = None,
        reader: Reader = ...,
    ) -> list[tuple[int, float]]: ...
    def invalidate(self) -> None: ...
    def close(self) -> None:
        """Write what is derived and unsaved (an index kept in files), and stop its threads."""
        ...


@runtime_checkable
class NativeVectorSearch(Protocol):
    """A store that searches its vectors itself (PostgreSQL with HNSW); other stores get the
    derived index of ``retrieval.ann`` (HNSW files beside the database, exact search in
    ``retrieval.vector.VectorIndex`` for small knowledge bases)."""

    def vector_index(self) -> VectorSearcher: ...


class Store(KnowledgeBaseStore, DocumentStore, ReaderScope, KeywordIndex, VectorStore, Protocol):
    """Everything the core needs from a backend, on one database that the composition root
    (``zhiku.runtime``) opens and closes."""

    @property
    def db(self) -> Database:
        """The database the store writes to (shared with every other store of the process)."""
        ...

    def close(self) -> None:
        """Release what the store holds itself (never the database)."""
        ...
