"""The PostgreSQL store: the server backend's source of truth, with the same semantics as
``store/sqlite/store.py`` (the conformance tests in ``tests/store`` run against both). The SQL it
shares with SQLite is in ``store/common``.

Chunks are bulk-loaded with ``COPY`` under ids drawn from their sequence beforehand, vectors with
binary ``COPY`` into a temporary table and one upsert. Full-text terms live in ``chunks.tsv``
(``fts.py``); vectors are searched in the database (``vector_index.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from zhiku.store.common import SqlStore
from zhiku.store.common.rows import NEW_CHUNK_COLUMNS, new_chunk_row
from zhiku.store.db import Connection
from zhiku.store.filters import SearchFilters
from zhiku.store.migrations.m008_term_stats import SHARD_SQL
from zhiku.store.postgres import fts, postings
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.filtersql import filter_sql
from zhiku.store.postgres.vector_index import PgVectorIndex
from zhiku.store.postgres.vectors import HnswIndexes, binary_cursor, encode
from zhiku.store.reader import PUBLIC, Reader
from zhiku.store.records import NewChunk

_COPY_CHUNKS = f"COPY chunks (id, {NEW_CHUNK_COLUMNS}, tsv, term_count) FROM STDIN"


class PostgresStore(SqlStore):
    """Workspaces, knowledge bases, documents, chunks, terms and vectors in PostgreSQL."""

    db: PgDatabase
    _DIALECT = "postgres"
    _IDS_PER_QUERY = 100_000  # one array parameter
    # the row's counter (raised by the API's edits) plus the shards' (raised by writers)
    _VECTOR_VERSION = (
        "k.vector_version + coalesce((SELECT sum(s.vector_changes) FROM chunk_stats s "
        "WHERE s.kb_id = k.id), 0)"
    )
    _filter_sql = staticmethod(filter_sql)

    def __init__(self, db: PgDatabase) -> None:
        """The store on ``db``, an open and migrated PostgreSQL database (see
        ``store.db.open_postgres``) that the caller closes."""
        self.db = db
        self.hnsw = HnswIndexes(self.db)
        self._vector_oid: int | None = None
        # BM25 from the packed postings (``postings.py``); off, every candidate is ranked
        # from its tsvector (the same results, for comparisons)
        self.keyword_postings = True

    def close(self) -> None:
        """Nothing of its own to release (the database stays open for its owner)."""

    def vector_index(self) -> PgVectorIndex:
        """Vector search inside the database, over this store's embeddings."""
        return PgVectorIndex(self.db, self.hnsw)

    @staticmethod
    def _ids_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?::bigint[])", [list(ids)]

    # -- chunks and their full-text terms ---------------------------------------------------
    def _lock_source(self, conn: Connection, kb_id: int, source: str) -> None:
        """Concurrent writers of the same source take turns (until the transaction ends)."""
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, ?))", (source, kb_id))

    def _insert_chunks(
        self, conn: Connection, kb_id: int, doc_id: int, chunks: Sequence[NewChunk]
    ) -> list[int]:
        """COPY the chunks in under ids taken from their sequence (in order, so ids follow
        the chunks' order)."""
        if not chunks:
            return []
        ids = sorted(
            int(r[0])
            for r in conn.execute(
                "SELECT nextval(pg_get_serial_sequence('chunks', 'id')) "
                "FROM generate_series(1, ?)",
                (len(chunks),),
            )
        )
        with self.db.raw() as raw, raw.cursor() as cur, cur.copy(_COPY_CHUNKS) as copy:
            for chunk_id, chunk in zip(ids, chunks, strict=True):
                tsv, length = fts.tsvector_literal(chunk.terms) if chunk.searchable else (None, 0)
                parent_id = ids[chunk.parent] if chunk.parent is not None else None
                values = new_chunk_row(chunk, doc_id=doc_id, kb_id=kb_id, parent_id=parent_id)
                copy.write_row((chunk_id, *values, tsv, length))
        return ids

    def _set_chunk_text(
        self, conn: Connection, chunk_id: int, text: str, token_count: int,
        terms: Sequence[str] | None,
    ) -> None:
        tsv, length = fts.tsvector_literal(terms) if terms is not None else (None, 0)
        conn.execute(
            "UPDATE chunks SET text = ?, token_count = ?, tsv = ?::tsvector, "
            "term_count = ? WHERE id = ?",
            (text, token_count, tsv, length, chunk_id),
        )

    def _set_chunk_terms(self, conn: Connection, chunk_id: int, terms: Sequence[str]) -> None:
        tsv, length = fts.tsvector_literal(terms)
        conn.execute(  # the chunks' triggers move term_df and chunk_stats along
            "UPDATE chunks SET tsv = ?::tsvector, term_count = ? WHERE id = ?",
            (tsv, length, chunk_id),
        )

    def mark_ready(self, doc_ids: Iterable[int], model: str) -> list[int]:
        """Set ``ready`` on the given documents whose searchable chunks all have vectors."""
        wanted = list(doc_ids)
        if not wanted:
            return []
        with self.db.write() as conn:
            done = [
                int(r[0])
                for r in conn.execute(
                    "SELECT w.id FROM unnest(?::bigint[]) WITH ORDINALITY AS w(id, n) "
                    "WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = w.id "
                    "AND c.searchable = 1 AND NOT EXISTS (SELECT 1 FROM embeddings e "
                    "WHERE e.chunk_id = c.id AND e.model = ?)) ORDER BY w.n",
                    (wanted, model),
                )
            ]
            if done:
                conn.execute(
                    f"UPDATE documents SET status = 'ready', updated_at = {self.db.now} "
                    "WHERE id = ANY(?::bigint[]) AND status = 'parsed'",
                    (done,),
                )
        return done

    # -- vectors ----------------------------------------------------------------------------
    def _bump_vector_version(self, conn: Connection, kb_id: int) -> None:
        """Count a change of vectors in this transaction's shard: concurrent writers of one
        knowledge base do not queue on its row (migration 8)."""
        conn.execute(
            "INSERT INTO chunk_stats AS s (kb_id, shard, vector_changes) "
            f"SELECT id, {SHARD_SQL}, 1 FROM knowledge_bases WHERE id = ? "
            "ON CONFLICT (kb_id, shard) DO UPDATE SET vector_changes = s.vector_changes + 1",
            (kb_id,),
        )

    def add_vectors(self, kb_id: int, model: str, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Store vectors for chunks (chunks deleted meanwhile are skipped)."""
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(ids) == 0:
            return
        dim = int(matrix.shape[1])
        self.hnsw.ensure(model, dim)
        latest = {int(i): n for n, i in enumerate(ids)}  # a repeated id: its last vector wins
        with self.db.write() as conn, self.db.raw() as raw:
            if conn.execute("SELECT to_regclass('pg_temp.zhiku_vectors_in')").fetchone()[0] is None:
                conn.execute(
                    "CREATE TEMP TABLE zhiku_vectors_in (chunk_id BIGINT, vector VECTOR) "
                    "ON COMMIT DELETE ROWS"
                )
            with raw.cursor() as cur, cur.copy(
                "COPY zhiku_vectors_in (chunk_id, vector) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "bytea"])
                for chunk_id, n in latest.items():
                    copy.write_row((chunk_id, encode(matrix[n])))
            # FOR KEY SHARE skips chunks deleted by a concurrent transaction
            conn.execute(
                "INSERT INTO embeddings (chunk_id, model, dim, vector) "
                "SELECT v.chunk_id, ?, ?, v.vector FROM zhiku_vectors_in v "
                "JOIN chunks c ON c.id = v.chunk_id FOR KEY SHARE OF c "
                "ON CONFLICT (chunk_id, model) DO UPDATE "
                "SET dim = excluded.dim, vector = excluded.vector",
                (model, dim),
            )
            conn.execute("DELETE FROM zhiku_vectors_in")  # cheaper than TRUNCATE (no new file)
            self._bump_vector_version(conn, kb_id)

    def load_vectors(self, kb_id: int, model: str) -> tuple[np.ndarray, np.ndarray]:
        """All ``(chunk_ids, matrix)`` of enabled searchable chunks (for export and tests:
        searches run in the database)."""
        rows = self._vector_rows(
            "SELECT e.chunk_id, e.vector FROM embeddings e JOIN chunks c ON c.id = e.chunk_id "
            "WHERE c.kb_id = %s AND e.model = %s AND c.searchable = 1 AND c.enabled = 1 "
            "ORDER BY e.chunk_id",
            (kb_id, model),
        )
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return ids, np.stack([r[1] for r in rows])

    def vectors_for(self, ids: Sequence[int], model: str) -> dict[int, np.ndarray]:
        """Vectors of specific chunks."""
        if not ids:
            return {}
        rows = self._vector_rows(
            "SELECT chunk_id, vector FROM embeddings WHERE model = %s "
            "AND chunk_id = ANY(%s::bigint[])",
            (model, list(ids)),
        )
        return {int(r[0]): r[1] for r in rows}

    def _vector_rows(self, query: str, params: Sequence[Any]) -> list[Any]:
        if self._vector_oid is None:
            oid = self.db.conn.execute("SELECT 'vector'::regtype::oid").fetchone()[0]
            self._vector_oid = int(oid)
        with self.db.raw() as conn, binary_cursor(conn, self._vector_oid) as cur:
            return cur.execute(query, params).fetchall()

    # -- search -----------------------------------------------------------------------------
    def keyword_search(
        self, kb_ids: Sequence[int], terms: Sequence[str], limit: int,
        filters: SearchFilters | None, reader: Reader = PUBLIC,
    ) -> list[tuple[int, float]]:
        """BM25 over the pre-tokenized terms among the chunks ``reader`` may read:
        ``(chunk_id, score)``, best first (the reader's condition is part of the ranking
        query's WHERE, so ``limit`` readable chunks come back). The candidates come from the
        packed postings and the best are scored exactly (``postings.py``); the full query over
        every candidate answers when that does not settle within a few rounds."""
        words = fts.query_lexemes(terms)
        if not words or not kb_ids or limit <= 0:
            return []
        where, params = filter_sql(filters)
        condition: str | None = None if filters is None or filters.is_empty() else where
        if self.hides_any(kb_ids, reader):
            readable, reader_params = self._reader_sql(reader)
            condition = readable if condition is None else f"{condition} AND {readable}"
            params = [*params, *reader_params]
        kbs, query = list(kb_ids), fts.tsquery_literal(words)
        conn = self.db.conn
        by_ids = fts.bm25_sql(condition, by_ids=True)

        def exact(ids: list[int]) -> list[tuple[int, float]]:
            rows = conn.execute(by_ids, [words, ids, query, kbs, *params, kbs, words, kbs,
                                         len(ids)])
            return [(int(r[0]), float(r[1])) for r in rows]

        if self.keyword_postings:
            found = conn.execute(postings.POSTINGS_SQL, [kbs, words, kbs, kbs, words]).fetchall()
            hits = postings.rank(*postings.bounds(found), limit, exact)
            if hits is not None:
                return hits
        rows = conn.execute(  # stale or filtered bounds did not settle it: the full query
            fts.bm25_sql(condition), [words, query, kbs, *params, kbs, words, kbs, limit]
        )
        return [(int(r[0]), float(r[1])) for r in rows]

    def term_stats(self, terms: Sequence[str]) -> tuple[dict[str, int], int]:
        """Document frequency of each term and the number of indexed chunks (for IDF)."""
        if not terms:
            return {}, 0
        pieces = {t: fts.lexemes([t]) for t in terms}
        words = list(dict.fromkeys(p[0] for p in pieces.values() if len(p) == 1))
        counts: dict[str, int] = {}
        if words:
            counts = {r[0]: int(r[1]) for r in self.db.conn.execute(fts.DOC_FREQ_SQL, (words,))}
        freqs = {
            t: counts[p[0]] for t, p in pieces.items() if len(p) == 1 and p[0] in counts
        }
        total = self.db.conn.execute("SELECT coalesce(sum(chunks), 0) FROM chunk_stats")
        return freqs, int(total.fetchone()[0])

    def chunk_terms(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """The indexed terms of searchable chunks (what BM25 saw), by chunk id."""
        if not ids:
            return {}
        rows = self.db.conn.execute(fts.CHUNK_TERMS_SQL, (list(ids),))
        return {int(r[0]): list(r[1]) for r in rows}

    def chunk_vocabulary(self, ids: Sequence[int]) -> dict[int, set[str]]:
        """The distinct indexed terms of searchable chunks, by chunk id (the tsvectors' lexemes,
        without putting their positions back in order)."""
        if not ids:
            return {}
        rows = self.db.conn.execute(
            "SELECT id, tsvector_to_array(tsv) FROM chunks "
            "WHERE id = ANY(?::bigint[]) AND tsv IS NOT NULL", (list(ids),))
        return {int(r[0]): set(r[1]) for r in rows}
