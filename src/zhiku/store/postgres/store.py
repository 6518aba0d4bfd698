"""The PostgreSQL store: the server backend's source of truth, with the same semantics as
``store/sqlite/store.py`` (the conformance tests in ``tests/store`` run against both).

Chunks are bulk-loaded with ``COPY`` under ids drawn from their sequence beforehand, vectors with
binary ``COPY`` into a temporary table and one upsert. Full-text terms live in ``chunks.tsv``
(``fts.py``); vectors are searched in the database (``vector_index.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from zhiku.core.errors import Conflict, NotFound
from zhiku.store.filters import SearchFilters
from zhiku.store.postgres import fts
from zhiku.store.postgres.db import PgConnection, PgDatabase
from zhiku.store.postgres.filtersql import filter_sql
from zhiku.store.postgres.migrations import migrate
from zhiku.store.postgres.vector_index import PgVectorIndex
from zhiku.store.postgres.vectors import HnswIndexes, binary_cursor, encode
from zhiku.store.records import Chunk, Document, KnowledgeBase, NewChunk

_NOW = PgDatabase.now
_CHUNK_COLUMNS = (
    "id, document_id, kb_id, ord, text, heading_path, page, token_count, parent_id, searchable, "
    "enabled, metadata"
)
_COPY_CHUNKS = (
    "COPY chunks (id, document_id, kb_id, ord, text, heading_path, page, token_count, parent_id, "
    "searchable, metadata, tsv, term_count) FROM STDIN"
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _kb(row: Any) -> KnowledgeBase:
    return KnowledgeBase(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        embedder=row["embedder"],
        settings=_json(row["settings"]),
        created_at=row["created_at"],
    )


def _doc(row: Any) -> Document:
    return Document(
        id=row["id"],
        kb_id=row["kb_id"],
        source=row["source"],
        title=row["title"],
        content_hash=row["content_hash"],
        format=row["format"],
        size_bytes=row["size_bytes"],
        status=row["status"],
        error=row["error"],
        chunk_count=row["chunk_count"],
        metadata=_json(row["metadata"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _chunk(row: Any) -> Chunk:
    return Chunk(
        id=row["id"],
        document_id=row["document_id"],
        kb_id=row["kb_id"],
        ord=row["ord"],
        text=row["text"],
        heading_path=json.loads(row["heading_path"]),
        page=row["page"],
        token_count=row["token_count"],
        parent_id=row["parent_id"],
        searchable=bool(row["searchable"]),
        enabled=bool(row["enabled"]),
        metadata=json.loads(row["metadata"]),
    )


class PostgresStore:
    """Workspaces, knowledge bases, documents, chunks, terms and vectors in PostgreSQL."""

    def __init__(self, url: str, *, pool_size: int = 16) -> None:
        """Connect to ``url`` and migrate the database to the latest schema."""
        self.db = PgDatabase(url, pool_size=pool_size)
        try:
            migrate(self.db)
        except BaseException:
            self.db.close()
            raise
        self.hnsw = HnswIndexes(self.db)
        self._vector_oid: int | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self.db.close()

    def vector_index(self) -> PgVectorIndex:
        """Vector search inside the database, over this store's embeddings."""
        return PgVectorIndex(self.db, self.hnsw)

    # -- workspaces and knowledge bases ---------------------------------------------------
    def workspace_id(self, name: str = "default", *, create: bool = False) -> int:
        """The id of workspace ``name`` (created when ``create`` and missing)."""
        row = self.db.conn.execute("SELECT id FROM workspaces WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return int(row["id"])
        if not create:
            raise NotFound(f"workspace '{name}' does not exist")
        with self.db.write() as conn:
            row = conn.execute(
                "INSERT INTO workspaces (name) VALUES (?) ON CONFLICT (name) DO NOTHING "
                "RETURNING id",
                (name,),
            ).fetchone()
        return int(row[0]) if row is not None else self.workspace_id(name)

    def create_kb(
        self, workspace_id: int, name: str, embedder: str, settings: dict[str, Any]
    ) -> KnowledgeBase:
        """Create a knowledge base; ``Conflict`` when the name is taken in the workspace."""
        try:
            with self.db.write() as conn:
                row = conn.execute(
                    "INSERT INTO knowledge_bases (workspace_id, name, embedder, settings) "
                    "VALUES (?, ?, ?, ?) RETURNING id",
                    (workspace_id, name, embedder, json.dumps(settings)),
                ).fetchone()
        except self.db.IntegrityError as exc:
            raise Conflict(f"knowledge base '{name}' already exists") from exc
        return self.get_kb_by_id(int(row[0]))

    def get_kb(self, workspace_id: int, name: str) -> KnowledgeBase:
        """The knowledge base named ``name`` in the workspace, or ``NotFound``."""
        row = self.db.conn.execute(
            "SELECT * FROM knowledge_bases WHERE workspace_id = ? AND name = ?",
            (workspace_id, name),
        ).fetchone()
        if row is None:
            raise NotFound(f"knowledge base '{name}' does not exist")
        return _kb(row)

    def get_kb_by_id(self, kb_id: int) -> KnowledgeBase:
        """The knowledge base with this id, or ``NotFound``."""
        row = self.db.conn.execute(
            "SELECT * FROM knowledge_bases WHERE id = ?", (kb_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"knowledge base {kb_id} does not exist")
        return _kb(row)

    def list_kbs(self, workspace_id: int) -> list[KnowledgeBase]:
        """Every knowledge base of the workspace, by name."""
        rows = self.db.conn.execute(
            "SELECT * FROM knowledge_bases WHERE workspace_id = ? ORDER BY name", (workspace_id,)
        )
        return [_kb(r) for r in rows]

    def update_kb(
        self, kb_id: int, *, embedder: str | None = None, settings: dict[str, Any] | None = None
    ) -> KnowledgeBase:
        """Change a knowledge base's embedder or settings."""
        with self.db.write() as conn:
            if embedder is not None:
                conn.execute(
                    "UPDATE knowledge_bases SET embedder = ? WHERE id = ?", (embedder, kb_id)
                )
            if settings is not None:
                conn.execute(
                    "UPDATE knowledge_bases SET settings = ? WHERE id = ?",
                    (json.dumps(settings), kb_id),
                )
        return self.get_kb_by_id(kb_id)

    def delete_kb(self, kb_id: int) -> None:
        """Delete a knowledge base with all its documents, chunks, terms and vectors."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM knowledge_bases WHERE id = ?", (kb_id,))

    def kb_stats(self, kb_id: int) -> dict[str, int]:
        """Counts of documents by status, chunks and embedded chunks."""
        conn = self.db.conn
        stats = {"documents": 0, "ready": 0, "parsed": 0, "error": 0}
        for row in conn.execute(
            "SELECT status, count(*) n FROM documents WHERE kb_id = ? GROUP BY status", (kb_id,)
        ):
            stats[row["status"]] = row["n"]
            stats["documents"] += row["n"]
        stats["chunks"] = conn.execute(
            "SELECT count(*) FROM chunks WHERE kb_id = ? AND searchable = 1", (kb_id,)
        ).fetchone()[0]
        stats["embedded"] = conn.execute(
            "SELECT count(*) FROM embeddings e JOIN chunks c ON c.id = e.chunk_id "
            "WHERE c.kb_id = ?",
            (kb_id,),
        ).fetchone()[0]
        return stats

    # -- documents ------------------------------------------------------------------------
    def find_document(self, kb_id: int, source: str) -> Document | None:
        """The document ingested from ``source``, if any."""
        row = self.db.conn.execute(
            "SELECT * FROM documents WHERE kb_id = ? AND source = ?", (kb_id, source)
        ).fetchone()
        return None if row is None else _doc(row)

    def get_document(self, doc_id: int) -> Document:
        """The document with this id, or ``NotFound``."""
        row = self.db.conn.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise NotFound(f"document {doc_id} does not exist")
        return _doc(row)

    def list_documents(self, kb_id: int, status: str | None = None) -> list[Document]:
        """Documents of a knowledge base, optionally with one status, by source."""
        sql_ = "SELECT * FROM documents WHERE kb_id = ?"
        params: list[Any] = [kb_id]
        if status is not None:
            sql_ += " AND status = ?"
            params.append(status)
        return [_doc(r) for r in self.db.conn.execute(sql_ + " ORDER BY source", params)]

    def documents_by_id(self, ids: Iterable[int]) -> dict[int, Document]:
        """Documents by id."""
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = self.db.conn.execute(
            "SELECT * FROM documents WHERE id = ANY(?::bigint[])", (wanted,)
        )
        return {r["id"]: _doc(r) for r in rows}

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
    ) -> tuple[Document, list[int]]:
        """Write a document and its chunks (and their terms) in one transaction.

        An earlier version from the same source is replaced atomically: its chunks, terms and
        vectors go in the same transaction the new ones arrive in. Concurrent writers of the
        same source take turns. Returns the document and the ids of its searchable chunks,
        which still need embeddings.
        """
        with self.db.write() as conn:
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(?, ?))", (source, kb_id)
            )
            old = conn.execute(
                "SELECT id FROM documents WHERE kb_id = ? AND source = ?", (kb_id, source)
            ).fetchone()
            if old is not None:
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
            ids = self._copy_chunks(conn, kb_id, doc_id, chunks)
            searchable = [ids[i] for i, c in enumerate(chunks) if c.searchable]
            document = self.get_document(doc_id)
        return document, searchable

    def _copy_chunks(
        self, conn: PgConnection, kb_id: int, doc_id: int, chunks: Sequence[NewChunk]
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
                copy.write_row(
                    (
                        chunk_id,
                        doc_id,
                        kb_id,
                        chunk.ord,
                        chunk.text,
                        json.dumps(chunk.heading_path, ensure_ascii=False),
                        chunk.page,
                        chunk.token_count,
                        ids[chunk.parent] if chunk.parent is not None else None,
                        int(chunk.searchable),
                        json.dumps(chunk.metadata, ensure_ascii=False),
                        tsv,
                        length,
                    )
                )
        return ids

    def record_failure(
        self, kb_id: int, *, source: str, content_hash: str, fmt: str, size_bytes: int, error: str
    ) -> None:
        """Remember that ``source`` failed. A good earlier version of it is kept untouched."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO documents (kb_id, source, content_hash, format, size_bytes, status, "
                "error) VALUES (?, ?, ?, ?, ?, 'error', ?) ON CONFLICT (kb_id, source) DO UPDATE "
                f"SET error = excluded.error, updated_at = {_NOW} WHERE documents.status = 'error'",
                (kb_id, source, content_hash, fmt, size_bytes, error),
            )

    def delete_document(self, doc_id: int) -> None:
        """Delete a document with its chunks, terms and vectors."""
        with self.db.write() as conn:
            self._delete_document_rows(conn, doc_id)

    @staticmethod
    def _delete_document_rows(conn: PgConnection, doc_id: int) -> None:
        row = conn.execute(
            "DELETE FROM documents WHERE id = ? RETURNING kb_id", (doc_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"document {doc_id} does not exist")
        conn.execute(
            "UPDATE knowledge_bases SET vector_version = vector_version + 1 WHERE id = ?",
            (row["kb_id"],),
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
                    f"UPDATE documents SET status = 'ready', updated_at = {_NOW} "
                    "WHERE id = ANY(?::bigint[]) AND status = 'parsed'",
                    (done,),
                )
        return done

    # -- chunks ---------------------------------------------------------------------------
    def list_chunks(self, doc_id: int) -> list[Chunk]:
        """Every chunk of a document, in order."""
        rows = self.db.conn.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE document_id = ? ORDER BY ord, id",
            (doc_id,),
        )
        return [_chunk(r) for r in rows]

    def get_chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """Chunks by id (missing ids are left out)."""
        if not ids:
            return {}
        rows = self.db.conn.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id = ANY(?::bigint[])", (list(ids),)
        )
        return {r["id"]: _chunk(r) for r in rows}

    def set_chunk_enabled(self, chunk_id: int, enabled: bool) -> None:
        """Disable (or re-enable) a chunk: disabled chunks are never returned by search."""
        with self.db.write() as conn:
            cur = conn.execute(
                "UPDATE chunks SET enabled = ? WHERE id = ?", (int(enabled), chunk_id)
            )
            if not cur.rowcount:
                raise NotFound(f"chunk {chunk_id} does not exist")

    def update_chunk_text(
        self, chunk_id: int, text: str, *, token_count: int, terms: Sequence[str]
    ) -> None:
        """New text for a chunk. A searchable chunk gets ``terms`` indexed now and loses its
        vectors (its document goes back to ``parsed`` until they are made again)."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT document_id, kb_id, searchable FROM chunks WHERE id = ? FOR UPDATE",
                (chunk_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"chunk {chunk_id} does not exist")
            tsv, length = fts.tsvector_literal(terms) if row["searchable"] else (None, 0)
            conn.execute(
                "UPDATE chunks SET text = ?, token_count = ?, tsv = ?::tsvector, "
                "term_count = ? WHERE id = ?",
                (text, token_count, tsv, length, chunk_id),
            )
            if row["searchable"]:
                conn.execute("DELETE FROM embeddings WHERE chunk_id = ?", (chunk_id,))
                conn.execute(
                    f"UPDATE documents SET status = 'parsed', updated_at = {_NOW} "
                    "WHERE id = ? AND status = 'ready'",
                    (row["document_id"],),
                )
            conn.execute(
                "UPDATE knowledge_bases SET vector_version = vector_version + 1 WHERE id = ?",
                (row["kb_id"],),
            )

    # -- embeddings -----------------------------------------------------------------------
    def chunks_missing_vectors(
        self, kb_id: int, model: str, *, after_id: int = 0, limit: int = 10_000
    ) -> list[tuple[int, int, str]]:
        """``(chunk_id, document_id, text)`` of searchable chunks without a vector for ``model``,
        by id, starting after ``after_id`` (for paging)."""
        rows = self.db.conn.execute(
            "SELECT c.id, c.document_id, c.text FROM chunks c WHERE c.kb_id = ? AND c.id > ? "
            "AND c.searchable = 1 AND NOT EXISTS (SELECT 1 FROM embeddings e "
            "WHERE e.chunk_id = c.id AND e.model = ?) ORDER BY c.id LIMIT ?",
            (kb_id, after_id, model, limit),
        )
        return [(r[0], r[1], r[2]) for r in rows]

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
            conn.execute("TRUNCATE zhiku_vectors_in")
            conn.execute(
                "UPDATE knowledge_bases SET vector_version = vector_version + 1 WHERE id = ?",
                (kb_id,),
            )

    def drop_vectors(self, kb_id: int, model: str) -> None:
        """Delete a knowledge base's vectors of one model (after switching models)."""
        with self.db.write() as conn:
            conn.execute(
                "DELETE FROM embeddings WHERE model = ? AND chunk_id IN "
                "(SELECT id FROM chunks WHERE kb_id = ?)",
                (model, kb_id),
            )
            conn.execute(
                "UPDATE knowledge_bases SET vector_version = vector_version + 1 WHERE id = ?",
                (kb_id,),
            )

    def vector_version(self, kb_id: int) -> int:
        """A counter that changes whenever the knowledge base's vectors change."""
        row = self.db.conn.execute(
            "SELECT vector_version FROM knowledge_bases WHERE id = ?", (kb_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"knowledge base {kb_id} does not exist")
        return int(row[0])

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

    # -- search ---------------------------------------------------------------------------
    def keyword_search(
        self, kb_ids: Sequence[int], terms: Sequence[str], limit: int, filters: SearchFilters | None
    ) -> list[tuple[int, float]]:
        """BM25 over the pre-tokenized terms: ``(chunk_id, score)``, best first."""
        words = fts.query_lexemes(terms)
        if not words or not kb_ids or limit <= 0:
            return []
        where, params = filter_sql(filters)
        kbs = list(kb_ids)
        rows = self.db.conn.execute(
            fts.bm25_sql(None if filters is None or filters.is_empty() else where),
            [words, fts.tsquery_literal(words), kbs, kbs, *params, limit],
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
            rows = self.db.conn.execute(
                fts.DOC_FREQ_SQL, (words, fts.tsquery_literal(words))
            )
            counts = {r[0]: int(r[1]) for r in rows}
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

    def allowed_chunk_ids(self, kb_ids: Sequence[int], filters: SearchFilters) -> np.ndarray:
        """Ids of chunks that pass ``filters`` (to mask vector search)."""
        where, params = filter_sql(filters)
        rows = self.db.conn.execute(
            "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
            f"WHERE c.kb_id = ANY(?::bigint[]) AND {where}",
            [list(kb_ids), *params],
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    # -- jobs -----------------------------------------------------------------------------
    def create_job(self, kind: str, kb_id: int | None, payload: dict[str, Any]) -> int:
        """Record a job as running; returns its id."""
        with self.db.write() as conn:
            row = conn.execute(
                "INSERT INTO jobs (kind, kb_id, payload, status, attempts) "
                "VALUES (?, ?, ?, 'running', 1) RETURNING id",
                (kind, kb_id, json.dumps(payload, ensure_ascii=False)),
            ).fetchone()
        return int(row[0])

    def finish_job(self, job_id: int, *, error: str | None = None) -> None:
        """Mark a job done (or failed with ``error``)."""
        with self.db.write() as conn:
            conn.execute(
                f"UPDATE jobs SET status = ?, error = ?, progress = 1, updated_at = {_NOW} "
                "WHERE id = ?",
                ("failed" if error else "done", error, job_id),
            )

    def list_jobs(self, kb_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent jobs, newest first."""
        query = "SELECT * FROM jobs"
        params: list[Any] = []
        if kb_id is not None:
            query += " WHERE kb_id = ?"
            params.append(kb_id)
        rows = self.db.conn.execute(query + " ORDER BY id DESC LIMIT ?", [*params, limit])
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]
