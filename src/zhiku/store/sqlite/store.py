"""The SQLite store: the single source of truth of the embedded default. The SQL it shares with
PostgreSQL is in ``store/common``; full-text terms live in the FTS5 table ``chunks_fts``."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from zhiku.store.common import SqlStore
from zhiku.store.common.rows import NEW_CHUNK_COLUMNS, new_chunk_row
from zhiku.store.db import Connection
from zhiku.store.filters import SearchFilters
from zhiku.store.reader import PUBLIC, Reader
from zhiku.store.records import NewChunk
from zhiku.store.sqlite.db import Database
from zhiku.store.sqlite.filtersql import filter_sql
from zhiku.store.sqlite.keyword_memory import MemoryKeywordIndex


class SqliteStore(SqlStore):
    """Workspaces, knowledge bases, documents, chunks, terms and vectors in one SQLite file."""

    db: Database
    _filter_sql = staticmethod(filter_sql)

    def __init__(self, db: Database, *, memory_keyword_rows: int = 2_000_000) -> None:
        """The store on ``db``, an open and migrated SQLite database (see
        ``store.db.open_sqlite``) that the caller closes. Unfiltered keyword searches use an
        in-memory BM25 index while the full-text table has at most ``memory_keyword_rows``
        rows (0 turns it off)."""
        self.db = db
        self._memory = MemoryKeywordIndex(self.db, memory_keyword_rows)
        self._group = threading.local()  # .terms: full-text rows held until the group commits

    def close(self) -> None:
        """Stop the in-memory keyword index (the database stays open for its owner)."""
        self._memory.close()

    @staticmethod
    def _ids_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
        return f"{column} IN ({','.join('?' * len(ids))})", list(ids)

    def _lock_source(self, conn: Connection, kb_id: int, source: str) -> None:
        """Nothing to do: SQLite's write transactions already take turns."""

    # -- full-text terms of chunks ----------------------------------------------------------
    @contextmanager
    def write_group(self) -> Iterator[Connection]:
        """One write transaction around several ``replace_document`` calls, whose full-text
        rows are inserted together just before it commits.

        FTS5 writes the terms it holds in memory to a new index segment whenever a later
        statement of the transaction opens a statement savepoint (every ``INSERT ...
        RETURNING`` does): terms inserted document by document became one small segment per
        document, and merging those cost more than indexing them. Held to the end, a group's
        terms make one segment."""
        with self.db.write() as conn:
            if getattr(self._group, "terms", None) is not None:  # nested: the outer one inserts
                yield conn
                return
            self._group.terms = []
            try:
                yield conn
                self._insert_terms(conn)
            finally:
                self._group.terms = None

    def _insert_terms(self, conn: Connection) -> None:
        """Insert the full-text rows a write group holds (before anything reads or deletes
        them in the same transaction)."""
        held: list[tuple[int, str]] | None = getattr(self._group, "terms", None)
        if held:
            conn.executemany("INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)", held)
            held.clear()

    def delete_kb(self, kb_id: int) -> None:
        """Delete a knowledge base with all its documents, chunks, terms and vectors."""
        with self.db.write() as conn:
            self._insert_terms(conn)
            conn.execute(
                "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE kb_id = ?)",
                (kb_id,),
            )
            super().delete_kb(kb_id)

    def _delete_document_rows(self, conn: Connection, doc_id: int) -> None:
        self._insert_terms(conn)
        conn.execute(
            "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE document_id = ?)",
            (doc_id,),
        )
        super()._delete_document_rows(conn, doc_id)

    def _insert_chunks(
        self, conn: Connection, kb_id: int, doc_id: int, chunks: Sequence[NewChunk]
    ) -> list[int]:
        if not chunks:
            return []
        # The ids AUTOINCREMENT would give one by one (after the largest id the table ever
        # held), given up front: the rows go in with one executemany, parents before children.
        top = conn.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'chunks'), 0), "
            "coalesce((SELECT max(id) FROM chunks), 0))"
        ).fetchone()[0]
        ids = list(range(int(top) + 1, int(top) + 1 + len(chunks)))
        conn.executemany(
            f"INSERT INTO chunks (id, {NEW_CHUNK_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                (chunk_id, *new_chunk_row(
                    chunk, doc_id=doc_id, kb_id=kb_id,
                    parent_id=None if chunk.parent is None else ids[chunk.parent],
                ))
                for chunk_id, chunk in zip(ids, chunks, strict=True)
            ],
        )
        fts_rows = [
            (chunk_id, " ".join(chunk.terms))
            for chunk_id, chunk in zip(ids, chunks, strict=True)
            if chunk.searchable
        ]
        held: list[tuple[int, str]] | None = getattr(self._group, "terms", None)
        if held is not None:
            held.extend(fts_rows)
        else:
            conn.executemany("INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)", fts_rows)
        return ids

    def _set_chunk_text(
        self, conn: Connection, chunk_id: int, text: str, token_count: int,
        terms: Sequence[str] | None,
    ) -> None:
        conn.execute(
            "UPDATE chunks SET text = ?, token_count = ? WHERE id = ?",
            (text, token_count, chunk_id),
        )
        if terms is not None:
            self._insert_terms(conn)
            conn.execute("DELETE FROM chunks_fts WHERE rowid = ?", (chunk_id,))
            conn.execute(
                "INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)", (chunk_id, " ".join(terms))
            )

    def _set_chunk_terms(self, conn: Connection, chunk_id: int, terms: Sequence[str]) -> None:
        self._insert_terms(conn)
        conn.execute("DELETE FROM chunks_fts WHERE rowid = ?", (chunk_id,))
        conn.execute(
            "INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)", (chunk_id, " ".join(terms))
        )
        # The text is unchanged, so no trigger tells the in-memory keyword index to rebuild.
        conn.execute("UPDATE keyword_generation SET generation = generation + 1 WHERE id = 1")

    def mark_ready(self, doc_ids: Iterable[int], model: str) -> list[int]:
        """Set ``ready`` on the given documents whose searchable chunks all have vectors."""
        done: list[int] = []
        with self.db.write() as conn:
            for doc_id in doc_ids:
                missing = conn.execute(
                    "SELECT 1 FROM chunks c WHERE c.document_id = ? AND c.searchable = 1 AND NOT "
                    "EXISTS (SELECT 1 FROM embeddings e WHERE e.chunk_id = c.id AND e.model = ?) "
                    "LIMIT 1",
                    (doc_id, model),
                ).fetchone()
                if missing is None:
                    conn.execute(
                        f"UPDATE documents SET status = 'ready', updated_at = {self.db.now} "
                        "WHERE id = ? AND status = 'parsed'",
                        (doc_id,),
                    )
                    done.append(doc_id)
        return done

    # -- vectors ----------------------------------------------------------------------------
    def add_vectors(self, kb_id: int, model: str, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Store vectors for chunks (chunks deleted meanwhile are skipped)."""
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = int(matrix.shape[1])
        rows = [(int(i), model, dim, matrix[n].tobytes()) for n, i in enumerate(ids)]
        with self.db.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings (chunk_id, model, dim, vector) "
                "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?1)",
                rows,
            )
            self._bump_vector_version(conn, kb_id)

    def load_vectors(self, kb_id: int, model: str) -> tuple[np.ndarray, np.ndarray]:
        """All ``(chunk_ids, matrix)`` of enabled searchable chunks, for a derived index."""
        rows = self.db.conn.execute(
            "SELECT e.chunk_id, e.vector FROM embeddings e JOIN chunks c ON c.id = e.chunk_id "
            "WHERE c.kb_id = ? AND e.model = ? AND c.searchable = 1 AND c.enabled = 1 "
            "ORDER BY e.chunk_id",
            (kb_id, model),
        ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        blob = b"".join(r[1] for r in rows)
        matrix = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), -1)
        return ids, matrix

    def vector_marks(self, kb_id: int, model: str) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the knowledge base's enabled searchable chunks with a ``model`` vector, in
        order, and the first 16 bytes of each vector (``V16``): enough to see, without reading
        the vectors, which ones a derived index lacks or holds in an older version."""
        rows = self.db.conn.execute(
            "SELECT e.chunk_id, substr(e.vector, 1, 16) FROM embeddings e "
            "JOIN chunks c ON c.id = e.chunk_id "
            "WHERE c.kb_id = ? AND e.model = ? AND c.searchable = 1 AND c.enabled = 1 "
            "ORDER BY e.chunk_id",
            (kb_id, model),
        ).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        blob = b"".join(r[1] if len(r[1]) == 16 else bytes(r[1]).ljust(16, b"\0") for r in rows)
        return ids, np.frombuffer(blob, dtype="V16")

    def vector_ids(self, kb_id: int, model: str) -> np.ndarray:
        """Ids of the knowledge base's enabled searchable chunks with a ``model`` vector, in
        order (from the covering index: no vector is read)."""
        rows = self.db.conn.execute(
            "SELECT e.chunk_id FROM embeddings e JOIN chunks c ON c.id = e.chunk_id "
            "WHERE c.kb_id = ? AND e.model = ? AND c.searchable = 1 AND c.enabled = 1 "
            "ORDER BY e.chunk_id",
            (kb_id, model),
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def edit_generation(self) -> int:
        """A counter that triggers raise on every delete, text edit and enabling or disabling
        of a chunk (never on appends): while it stands still, no vector changed in place."""
        row = self.db.conn.execute("SELECT generation FROM keyword_generation").fetchone()
        return int(row[0] or 0) if row is not None else 0

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads of this thread inside see one state of the database (a read transaction)."""
        conn = self.db.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def vectors_for(self, ids: Sequence[int], model: str) -> dict[int, np.ndarray]:
        """Vectors of specific chunks."""
        rows = self._rows_by_ids(
            "SELECT chunk_id, vector FROM embeddings WHERE model = ? AND",
            ids,
            column="chunk_id",
            params=[model],
        )
        return {r[0]: np.frombuffer(r[1], dtype=np.float32) for r in rows}

    # -- search -----------------------------------------------------------------------------
    def keyword_search(
        self, kb_ids: Sequence[int], terms: Sequence[str], limit: int,
        filters: SearchFilters | None, reader: Reader = PUBLIC,
    ) -> list[tuple[int, float]]:
        """BM25 over the pre-tokenized terms among the chunks ``reader`` may read:
        ``(chunk_id, score)``, best first. Where restricted documents could be hidden, the
        reader's condition joins the ranking query (the unfiltered fast paths are skipped), so
        ``limit`` readable chunks come back."""
        if not terms or not kb_ids:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        where, params = filter_sql(filters)
        if self.hides_any(kb_ids, reader):
            readable, reader_params = self._reader_sql(reader)
            where, params = f"{where} AND {readable}", [*params, *reader_params]
        kb_marks = ",".join("?" * len(kb_ids))
        if where == "1":
            found = self._memory.search(kb_ids, terms, limit)
            if found is not None:
                return found
            found = self._keyword_fast(match, kb_ids, limit)
            if found is not None:
                return found
        sql = (
            "SELECT f.rowid, -bm25(chunks_fts) s FROM chunks_fts f JOIN chunks c ON c.id = "
            "f.rowid JOIN documents d ON d.id = c.document_id WHERE chunks_fts MATCH ? AND "
            f"c.kb_id IN ({kb_marks}) AND c.enabled = 1 AND {where} "
            "ORDER BY bm25(chunks_fts) LIMIT ?"
        )
        args = [match, *kb_ids, *params, limit]
        return [(r[0], float(r[1])) for r in self.db.conn.execute(sql, args)]

    def _keyword_fast(
        self, match: str, kb_ids: Sequence[int], limit: int
    ) -> list[tuple[int, float]] | None:
        """Rank in the full-text index alone (2-3x faster than ranking through a join), then keep
        the knowledge bases' enabled chunks. ``None`` when over-fetching was not enough."""
        fetch = limit * 4
        ranked = self.db.conn.execute(
            "SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
            "ORDER BY bm25(chunks_fts) LIMIT ?",
            (match, fetch),
        ).fetchall()
        if not ranked:
            return []
        ids = [r[0] for r in ranked]
        keep = {
            r[0]
            for r in self.db.conn.execute(
                f"SELECT id FROM chunks WHERE id IN ({','.join('?' * len(ids))}) "
                f"AND kb_id IN ({','.join('?' * len(kb_ids))}) AND enabled = 1",
                [*ids, *kb_ids],
            )
        }
        found = [(r[0], float(r[1])) for r in ranked if r[0] in keep][:limit]
        if len(found) < limit and len(ranked) == fetch:
            return None  # other knowledge bases crowded the window: rank through the join
        return found

    def term_stats(self, terms: Sequence[str]) -> tuple[dict[str, int], int]:
        """Document frequency of each term and the number of indexed chunks (for IDF)."""
        if not terms:
            return {}, 0
        conn = self.db.conn
        rows = conn.execute(
            f"SELECT term, doc FROM chunks_fts_vocab WHERE term IN ({','.join('?' * len(terms))})",
            list(terms),
        )
        freqs = {r[0]: int(r[1]) for r in rows}
        return freqs, self._indexed_rows()

    def _indexed_rows(self) -> int:
        """How many chunks FTS5 indexes: the row count its BM25 uses, which FTS5 keeps as the
        first varint of its "averages" record (row 1 of ``chunks_fts_data``); before anything
        was indexed, 0."""
        row = self.db.conn.execute("SELECT block FROM chunks_fts_data WHERE id = 1").fetchone()
        return _varint(bytes(row[0])) if row is not None and row[0] else 0

    def chunk_terms(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """The indexed terms of searchable chunks (what BM25 saw), by chunk id."""
        rows = self._rows_by_ids("SELECT rowid, terms FROM chunks_fts WHERE", ids, column="rowid")
        return {r[0]: r[1].split() for r in rows}

    def chunk_vocabulary(self, ids: Sequence[int]) -> dict[int, set[str]]:
        """The distinct indexed terms of searchable chunks, by chunk id."""
        return {cid: set(terms) for cid, terms in self.chunk_terms(ids).items()}


def _varint(data: bytes) -> int:
    """The SQLite varint at the start of ``data`` (big-endian, 7 bits a byte, the 9th byte 8)."""
    value = 0
    for n, byte in enumerate(data[:9]):
        if n == 8:
            return (value << 8) | byte
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value
    return value
