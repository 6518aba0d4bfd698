"""pgvector plumbing: the binary wire format of ``vector`` and the per-model HNSW indexes.

``embeddings.vector`` has no fixed dimension (knowledge bases use models of different sizes), so
each (model, dimension) gets its own partial expression index,
``hnsw ((vector::vector(DIM)) vector_cosine_ops) WHERE model = '…' AND dim = DIM``, created the
first time vectors of that model are stored or searched. Queries use the same expression and
the model and dimension as literals, so the planner can match the partial index.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format, TransactionStatus

from zhiku.store.postgres.db import PgDatabase

_INDEX_LOCK = 0x7A686E7377  # advisory lock serialising index creation across processes
# Measured at 1M chunks (bench/pg_scale.py, BENCHMARKS.md): m 16 / ef_construction 64 reached
# recall@10 0.886 at ef_search 400; m 24 / ef_construction 128 reaches 0.951 (build ×2.8).
HNSW_M = 24
HNSW_EF_CONSTRUCTION = 128
MAX_VECTOR_DIM = 2000  # pgvector's HNSW limits
MAX_HALFVEC_DIM = 4000


def encode(vec: np.ndarray) -> bytes:
    """One vector in pgvector's binary format: dimension, a reserved zero, big-endian float4s."""
    row = np.asarray(vec, dtype=">f4")
    return np.array([row.shape[0], 0], dtype=">u2").tobytes() + row.tobytes()


def text(vec: np.ndarray) -> str:
    """One vector in pgvector's text format (exact for float32 values)."""
    return "[" + ",".join(map(repr, np.asarray(vec, dtype=np.float32).tolist())) + "]"


class VectorLoader(Loader):
    """Binary ``vector`` → float32 numpy array."""

    format = Format.BINARY

    def load(self, data: Buffer) -> np.ndarray:
        dim = int.from_bytes(bytes(data[:2]), "big")
        return np.frombuffer(data, dtype=">f4", count=dim, offset=4).astype(np.float32)


def binary_cursor(conn: psycopg.Connection[Any], vector_oid: int) -> psycopg.Cursor[Any]:
    """A cursor with binary results that loads ``vector`` columns as numpy arrays."""
    cur = conn.cursor(binary=True)
    cur.adapters.register_loader(vector_oid, VectorLoader)
    return cur


def cast(dim: int) -> sql.Composable:
    """The type HNSW indexes one model's vectors as: ``vector(DIM)``, or ``halfvec(DIM)`` past
    the 2,000 dimensions HNSW takes for ``vector``."""
    kind = "vector" if dim <= MAX_VECTOR_DIM else "halfvec"
    return sql.SQL("{}({})").format(sql.SQL(kind), sql.SQL(str(int(dim))))


def indexable(dim: int) -> bool:
    """Whether HNSW can index vectors of this size (else searches are exact)."""
    return 0 < dim <= MAX_HALFVEC_DIM


def index_name(model: str, dim: int) -> str:
    """The HNSW index of one (model, dimension): a stable, short, safe name."""
    digest = hashlib.sha1(f"{model}\0{dim}".encode()).hexdigest()[:16]
    return f"embeddings_hnsw_{digest}"


def model_condition(alias: str, model: str, dim: int) -> sql.Composable:
    """``alias.model = '…' AND alias.dim = DIM`` with literals (matches the partial index)."""
    return sql.SQL("{a}.model = {m} AND {a}.dim = {d}").format(
        a=sql.Identifier(alias), m=sql.Literal(model), d=sql.Literal(int(dim))
    )


class HnswIndexes:
    """Creates each (model, dimension)'s HNSW index once; remembers which exist."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        self._known: set[tuple[str, int]] = set()
        self._lock = threading.Lock()

    def ensure(self, model: str, dim: int) -> None:
        """Create the index of ``(model, dim)`` unless it exists (in the caller's transaction
        when there is one, since the index must see that transaction's locks)."""
        key = (model, int(dim))
        if key in self._known or not indexable(dim):
            return
        name = index_name(model, dim)
        with self._lock, self._db.raw() as conn:
            # inside a caller's transaction, the index exists for sure only once it commits
            outer = conn.info.transaction_status != TransactionStatus.IDLE
            with conn.transaction():
                self._create(conn, name, model, dim)
            if not outer:
                self._known.add(key)

    @staticmethod
    def _create(conn: psycopg.Connection[Any], name: str, model: str, dim: int) -> None:
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
        if exists and exists[0]:
            return
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_INDEX_LOCK,))
        conn.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {name} ON embeddings USING hnsw "
                "((vector::{cast}) vector_cosine_ops) WITH (m = {m}, ef_construction = {ef}) "
                "WHERE {cond}"
            ).format(
                name=sql.Identifier(name),
                cast=cast(dim),
                m=sql.Literal(HNSW_M),
                ef=sql.Literal(HNSW_EF_CONSTRUCTION),
                cond=sql.SQL("model = {} AND dim = {}").format(
                    sql.Literal(model), sql.Literal(int(dim))
                ),
            )
        )
