"""Chunks, in SQL both backends run as is; their indexed terms go through the backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from zhiku.core.errors import NotFound
from zhiku.store.common.base import SqlBackend
from zhiku.store.common.rows import CHUNK_COLUMNS, chunk_record
from zhiku.store.filters import SearchFilters
from zhiku.store.reader import PUBLIC, Reader, reader_sql
from zhiku.store.records import Chunk


class ChunkSql(SqlBackend):
    """The chunk half of ``DocumentStore`` (and the filter mask of ``KeywordIndex``)."""

    def list_chunks(self, doc_id: int) -> list[Chunk]:
        """Every chunk of a document, in order."""
        rows = self.db.conn.execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE document_id = ? ORDER BY ord, id",
            (doc_id,),
        )
        return [chunk_record(r) for r in rows]

    def get_chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """Chunks by id (missing ids are left out)."""
        rows = self._rows_by_ids(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE", list(ids))
        return {r["id"]: chunk_record(r) for r in rows}

    def set_chunk_enabled(self, chunk_id: int, enabled: bool) -> None:
        """Disable (or re-enable) a chunk: disabled chunks are never returned by search, and
        the knowledge base's vector version moves so cached vector matrices reload."""
        with self.db.write() as conn:
            row = conn.execute(
                "UPDATE chunks SET enabled = ? WHERE id = ? RETURNING kb_id",
                (int(enabled), chunk_id),
            ).fetchone()
            if row is None:
                raise NotFound(f"chunk {chunk_id} does not exist")
            self._bump_vector_version(conn, row["kb_id"])

    def update_chunk_text(
        self, chunk_id: int, text: str, *, token_count: int, terms: Sequence[str]
    ) -> None:
        """New text for a chunk. A searchable chunk gets ``terms`` indexed now and loses its
        vectors (its document goes back to ``parsed`` until they are made again)."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT document_id, kb_id, searchable FROM chunks WHERE id = ?"
                + self.db.lock_row(),
                (chunk_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"chunk {chunk_id} does not exist")
            searchable = bool(row["searchable"])
            self._set_chunk_text(conn, chunk_id, text, token_count, terms if searchable else None)
            if searchable:
                conn.execute("DELETE FROM embeddings WHERE chunk_id = ?", (chunk_id,))
                conn.execute(
                    f"UPDATE documents SET status = 'parsed', updated_at = {self.db.now} "
                    "WHERE id = ? AND status = 'ready'",
                    (row["document_id"],),
                )
            self._bump_vector_version(conn, row["kb_id"])

    def set_chunk_terms(self, terms: Mapping[int, Sequence[str]]) -> None:
        """New indexed terms for searchable chunks (by id), their text and vectors kept: a
        re-analysis of the index after the analyzer changed. One transaction."""
        if not terms:
            return
        with self.db.write() as conn:
            for chunk_id, chunk_terms in terms.items():
                self._set_chunk_terms(conn, chunk_id, chunk_terms)

    def allowed_chunk_ids(
        self, kb_ids: Sequence[int], filters: SearchFilters | None, reader: Reader = PUBLIC
    ) -> np.ndarray:
        """Ids of chunks that pass ``filters`` and that ``reader`` may read (to mask vector
        search)."""
        where, params = self._filter_sql(filters)
        readable, reader_params = reader_sql(reader, self._DIALECT)
        kbs, kb_params = self._ids_in("c.kb_id", kb_ids)
        rows = self.db.conn.execute(
            "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
            f"WHERE {kbs} AND {where} AND {readable}",
            [*kb_params, *params, *reader_params],
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
