"""What the shared store code needs from a backend: its database and a few SQL hooks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from zhiku.store.db import Connection, Database, Row
from zhiku.store.filters import SearchFilters
from zhiku.store.records import NewChunk


class SqlBackend(ABC):
    """The backend-specific half of a store, beneath the portable SQL of ``store/common``."""

    db: Database
    _DIALECT: Literal["sqlite", "postgres"] = "sqlite"
    _IDS_PER_QUERY = 500  # ids looked up by one query
    # The vector version of the knowledge base ``k`` (what ``_bump_vector_version`` raises)
    _VECTOR_VERSION = "k.vector_version"

    def _bump_vector_version(self, conn: Connection, kb_id: int) -> None:
        """Tell derived vector indexes that the knowledge base's vectors changed."""
        conn.execute(
            "UPDATE knowledge_bases SET vector_version = vector_version + 1 WHERE id = ?", (kb_id,)
        )

    @staticmethod
    @abstractmethod
    def _ids_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
        """``(condition, params)``: ``column`` is one of ``ids``."""

    @staticmethod
    @abstractmethod
    def _filter_sql(filters: SearchFilters | None) -> tuple[str, list[Any]]:
        """``(condition, params)`` of ``filters`` over the ``documents`` alias ``d``."""

    def _rows_by_ids(
        self, select: str, ids: Sequence[int], *, column: str = "id", params: Sequence[Any] = ()
    ) -> Iterator[Row]:
        """Rows of ``select`` (which ends in ``WHERE`` or ``AND``, after ``params``) whose
        ``column`` is one of ``ids``."""
        for start in range(0, len(ids), self._IDS_PER_QUERY):
            where, id_params = self._ids_in(column, ids[start : start + self._IDS_PER_QUERY])
            yield from self.db.conn.execute(f"{select} {where}", [*params, *id_params])

    @abstractmethod
    def _lock_source(self, conn: Connection, kb_id: int, source: str) -> None:
        """Make the writers of one source take turns, until the transaction ends."""

    @abstractmethod
    def _insert_chunks(
        self, conn: Connection, kb_id: int, doc_id: int, chunks: Sequence[NewChunk]
    ) -> list[int]:
        """Write a document's chunks with the terms of the searchable ones; their ids, in
        order."""

    @abstractmethod
    def _set_chunk_text(
        self, conn: Connection, chunk_id: int, text: str, token_count: int,
        terms: Sequence[str] | None,
    ) -> None:
        """New text for a chunk, and its indexed ``terms`` unless None (not searchable)."""

    @abstractmethod
    def _set_chunk_terms(self, conn: Connection, chunk_id: int, terms: Sequence[str]) -> None:
        """New indexed ``terms`` for a searchable chunk whose text stays as it is."""
