"""Vector search inside PostgreSQL: the server backend's ``VectorSearcher``.

Large knowledge bases are searched through the model's HNSW index with pgvector 0.8's iterative
scans (``relaxed_order``), so filters (the knowledge base, disabled chunks, metadata filters)
still yield ``limit`` neighbours; ``hnsw.ef_search`` is set per query for recall@10 ≥ 0.95
against exact search. Small knowledge bases and small filtered sets are searched exactly, which
is cheaper than a graph walk there, and so is any search the index answered short.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from psycopg import sql

from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.vectors import HnswIndexes, cast, indexable, model_condition, text
from zhiku.store.reader import PUBLIC, Reader, reader_sql

MAX_EF_SEARCH = 1000  # pgvector's limit


class PgVectorIndex:
    """Nearest chunks by cosine similarity, computed by PostgreSQL."""

    def __init__(
        self,
        db: PgDatabase,
        indexes: HnswIndexes,
        *,
        ef_search: int = 450,
        exact_below: int = 2000,
    ) -> None:
        """``ef_search``: the HNSW candidate list (at least ``limit``); ``exact_below``: search
        exactly when at most this many chunks can match."""
        self._db = db
        self._indexes = indexes
        self.ef_search = ef_search
        self.exact_below = exact_below

    def search(
        self,
        kb_id: int,
        model: str,
        query: np.ndarray,
        limit: int,
        allowed: np.ndarray | None = None,
        reader: Reader = PUBLIC,
    ) -> list[tuple[int, float]]:
        """``(chunk_id, cosine)`` of the ``limit`` nearest enabled chunks of the knowledge base
        (among ``allowed`` ids when given) that ``reader`` may read, best first: the reader's
        condition is part of the query's WHERE."""
        if limit <= 0 or query.ndim != 1 or query.shape[0] == 0:
            return []
        size = int(allowed.size) if allowed is not None else self._indexed_chunks(kb_id)
        if size == 0:
            return []
        who = reader if self._hides_any(kb_id, reader) else None
        if indexable(query.shape[0]) and size > self.exact_below:
            found = self.approximate(kb_id, model, query, limit, allowed, who)
            if len(found) >= limit:
                return found
        return self.exact(kb_id, model, query, limit, allowed, who)

    def _hides_any(self, kb_id: int, reader: Reader) -> bool:
        """Whether the knowledge base holds documents ``reader`` might not read."""
        if reader.unlimited:
            return False
        row = self._db.conn.execute(
            "SELECT 1 FROM documents WHERE kb_id = ? AND restricted = 1 LIMIT 1", (kb_id,)
        ).fetchone()
        return row is not None

    def invalidate(self) -> None:
        """Nothing is cached outside the database."""

    def close(self) -> None:
        """Nothing to write: the HNSW indexes live in the database."""

    def approximate(
        self, kb_id: int, model: str, query: np.ndarray, limit: int,
        allowed: np.ndarray | None = None, reader: Reader | None = None,
    ) -> list[tuple[int, float]]:
        """The search through the HNSW index (``reader``: only chunks it may read)."""
        dim = int(query.shape[0])
        self._indexes.ensure(model, dim)
        statement, params = self.approximate_sql(kb_id, model, query, limit, allowed, reader)
        ef = min(max(self.ef_search, limit), MAX_EF_SEARCH)
        with self._db.raw() as conn, conn.transaction():
            # both settings for this transaction only, in one round trip
            conn.execute("SELECT set_config('hnsw.ef_search', %s, true), "
                         "set_config('hnsw.iterative_scan', 'relaxed_order', true)", (str(ef),))
            rows = conn.execute(statement, params).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def approximate_sql(
        self, kb_id: int, model: str, query: np.ndarray, limit: int,
        allowed: np.ndarray | None = None, reader: Reader | None = None,
    ) -> tuple[sql.Composed, list[Any]]:
        """The HNSW query and its parameters (relaxed order: re-sorted at the end)."""
        dim = int(query.shape[0])
        only, params = _search_params(query, kb_id, limit, allowed, "e.chunk_id", reader)
        statement = sql.SQL(
            "WITH nearest AS MATERIALIZED ("
            " SELECT e.chunk_id, (e.vector::{t}) <=> %s::{t} AS distance"
            " FROM embeddings e JOIN chunks c ON c.id = e.chunk_id"
            " WHERE {model} AND c.kb_id = %s AND c.enabled = 1 AND c.searchable = 1 {only}"
            " ORDER BY distance LIMIT %s)"
            " SELECT chunk_id, 1 - distance FROM nearest ORDER BY distance, chunk_id"
        ).format(t=cast(dim), model=model_condition("e", model, dim), only=only)
        return statement, params

    def exact(
        self, kb_id: int, model: str, query: np.ndarray, limit: int,
        allowed: np.ndarray | None = None, reader: Reader | None = None,
    ) -> list[tuple[int, float]]:
        """The exact search: every candidate's cosine, computed in the database (``reader``:
        only chunks it may read)."""
        dim = int(query.shape[0])
        only, params = _search_params(query, kb_id, limit, allowed, "c.id", reader)
        statement = sql.SQL(
            "SELECT e.chunk_id, 1 - (e.vector <=> %s::vector) AS score"
            " FROM chunks c JOIN embeddings e ON e.chunk_id = c.id AND {model}"
            " WHERE c.kb_id = %s AND c.enabled = 1 AND c.searchable = 1 {only}"
            " ORDER BY score DESC, e.chunk_id LIMIT %s"
        ).format(model=model_condition("e", model, dim), only=only)
        with self._db.raw() as conn:
            rows = conn.execute(statement, params).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def _indexed_chunks(self, kb_id: int) -> int:
        row = self._db.conn.execute(
            "SELECT sum(chunks) FROM chunk_stats WHERE kb_id = ?", (kb_id,)
        ).fetchone()
        return int(row[0]) if row is not None and row[0] is not None else 0


def _search_params(
    query: np.ndarray, kb_id: int, limit: int, allowed: np.ndarray | None, column: str,
    reader: Reader | None = None,
) -> tuple[sql.Composable, list[Any]]:
    """The condition restricting a search to ``allowed`` chunk ids (on ``column``) and to the
    chunks of documents ``reader`` may read (empty when both are None), and the parameters of
    both searches: query vector, knowledge base, [ids], [groups], limit."""
    params: list[Any] = [text(query), kb_id]
    parts: list[sql.Composable] = []
    if allowed is not None:
        parts.append(sql.SQL("AND {} = ANY(%s::bigint[])").format(
            sql.SQL(column)  # a fixed column name of this module, never user input
        ))
        params.append(allowed.tolist())
    if reader is not None:
        readable, reader_params = reader_sql(reader, "postgres")
        # the condition is built by store/reader.py from fixed text; only group ids are params
        parts.append(sql.SQL(
            "AND EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id AND "
            + readable.replace("?", "%s") + ")"))
        params += reader_params
    params.append(limit)
    return sql.SQL(" ").join(parts), params
