"""Documents, in SQL both backends run as is; chunks and their terms go through the backend."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from zhiku.core.errors import NotFound
from zhiku.store.common.readers import ReaderSql
from zhiku.store.common.rows import document_record
from zhiku.store.db import Connection
from zhiku.store.doc_query import SORT_COLUMNS, DocumentQuery, like_pattern
from zhiku.store.filters import SearchFilters
from zhiku.store.reader import KEEP, PUBLIC, Reader, reader_sql
from zhiku.store.records import Document, NewChunk


class DocumentSql(ReaderSql):
    """The document half of ``DocumentStore`` over ``self.db`` (with who may read each)."""

    def find_document(self, kb_id: int, source: str) -> Document | None:
        """The document ingested from ``source``, if any."""
        row = self.db.conn.execute(
            "SELECT * FROM documents WHERE kb_id = ? AND source = ?", (kb_id, source)
        ).fetchone()
        return None if row is None else document_record(row)

    def get_document(self, doc_id: int) -> Document:
        """The document with this id, or ``NotFound``."""
        row = self.db.conn.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise NotFound(f"document {doc_id} does not exist")
        return document_record(row)

    def list_documents(self, kb_id: int, status: str | None = None) -> list[Document]:
        """Documents of a knowledge base, optionally with one status, by source."""
        sql = "SELECT * FROM documents WHERE kb_id = ?"
        params: list[Any] = [kb_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        return [document_record(r) for r in self.db.conn.execute(sql + " ORDER BY source", params)]

    def query_documents(
        self, kb_id: int, query: DocumentQuery, reader: Reader = PUBLIC
    ) -> tuple[list[Document], int]:
        """One page of the knowledge base's documents ``reader`` may read, and how many match
        ``query`` in all."""
        readable, params = reader_sql(reader, self._DIALECT)
        where = ["d.kb_id = ?", readable]
        params = [kb_id, *params]
        if query.status is not None:
            where.append("d.status = ?")
            params.append(query.status)
        if query.text:
            where.append("(LOWER(d.source) LIKE ? ESCAPE '\\' "
                         "OR LOWER(COALESCE(d.title, '')) LIKE ? ESCAPE '\\')")
            pattern = like_pattern(query.text)
            params += [pattern, pattern]
        if query.tag:
            cond, tag_params = self._filter_sql(SearchFilters(tags=[query.tag]))
            where.append(cond)
            params += tag_params
        condition = " AND ".join(where)
        conn = self.db.conn
        total = int(conn.execute(
            f"SELECT COUNT(*) FROM documents d WHERE {condition}", params).fetchone()[0])
        direction = "DESC" if query.descending else "ASC"
        order = f"{SORT_COLUMNS[query.sort]} {direction}, d.id {direction}"
        limit = query.limit if query.limit is not None else 2**62
        rows = conn.execute(
            f"SELECT d.* FROM documents d WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, query.offset],
        )
        return [document_record(r) for r in rows], total

    def documents_by_id(self, ids: Iterable[int]) -> dict[int, Document]:
        """Documents by id."""
        rows = self._rows_by_ids("SELECT * FROM documents WHERE", list(set(ids)))
        return {r["id"]: document_record(r) for r in rows}

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
        groups: Sequence[int] | str | None = KEEP,
    ) -> tuple[Document, list[int]]:
        """Write a document and its chunks (and their terms) in one transaction.

        ``groups``: the groups the document is restricted to (None: unrestricted); ``KEEP``
        keeps a replaced document's restriction (a new one is unrestricted). The restriction is
        written in the same transaction, so restricted text is never readable by others.

        An earlier version from the same source is replaced atomically: its chunks, terms and
        vectors go in the same transaction the new ones arrive in. Concurrent writers of the
        same source take turns. Returns the document and the ids of its searchable chunks,
        which still need embeddings.
        """
        with self.db.write() as conn:
            self._lock_source(conn, kb_id, source)
            old = conn.execute(
                "SELECT id FROM documents WHERE kb_id = ? AND source = ?", (kb_id, source)
            ).fetchone()
            keep: Sequence[int] | None = None
            if old is not None:
                keep = self._groups_of(conn, int(old["id"]))
                self._delete_document_rows(conn, int(old["id"]))
            row = conn.execute(
                "INSERT INTO documents (kb_id, source, title, content_hash, format, size_bytes, "
                "status, chunk_count, metadata) VALUES (?, ?, ?, ?, ?, ?, 'parsed', ?, ?) "
                "RETURNING id",
                (
                    kb_id,
                    source,
                    title,
                    content_hash,
                    fmt,
                    size_bytes,
                    sum(1 for c in chunks if c.searchable),
                    json.dumps(metadata, ensure_ascii=False),
                ),
            ).fetchone()
            doc_id = int(row[0])
            restriction = keep if isinstance(groups, str) else groups
            if restriction is not None:
                self._write_groups(conn, doc_id, restriction)
            ids = self._insert_chunks(conn, kb_id, doc_id, chunks)
            searchable = [ids[i] for i, c in enumerate(chunks) if c.searchable]
            document = self.get_document(doc_id)
        return document, searchable

    def write_group(self) -> AbstractContextManager[object]:
        """One write transaction around several ``replace_document`` calls (each joins it):
        they commit together or not at all."""
        return self.db.write()

    def set_document_metadata(self, doc_id: int, metadata: dict[str, Any]) -> None:
        """Replace a document's metadata (tags live under ``metadata["tags"]``); filters see it
        at once. ``NotFound`` for an unknown document."""
        with self.db.write() as conn:
            row = conn.execute(
                f"UPDATE documents SET metadata = ?, updated_at = {self.db.now} WHERE id = ? "
                "RETURNING id",
                (json.dumps(metadata, ensure_ascii=False), doc_id),
            ).fetchone()
            if row is None:
                raise NotFound(f"document {doc_id} does not exist")

    def record_failure(
        self, kb_id: int, *, source: str, content_hash: str, fmt: str, size_bytes: int, error: str
    ) -> None:
        """Remember that ``source`` failed. A good earlier version of it is kept untouched."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO documents (kb_id, source, content_hash, format, size_bytes, status, "
                "error) VALUES (?, ?, ?, ?, ?, 'error', ?) ON CONFLICT (kb_id, source) DO UPDATE "
                f"SET error = excluded.error, updated_at = {self.db.now} "
                "WHERE documents.status = 'error'",
                (kb_id, source, content_hash, fmt, size_bytes, error),
            )

    def delete_document(self, doc_id: int) -> None:
        """Delete a document with its chunks, terms and vectors."""
        with self.db.write() as conn:
            self._delete_document_rows(conn, doc_id)

    def _delete_document_rows(self, conn: Connection, doc_id: int) -> None:
        """Delete a document (its chunks and vectors go with it), or ``NotFound``."""
        row = conn.execute(
            "DELETE FROM documents WHERE id = ? RETURNING kb_id", (doc_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"document {doc_id} does not exist")
        self._bump_vector_version(conn, row["kb_id"])
