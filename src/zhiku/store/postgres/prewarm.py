"""Loading what searches read into PostgreSQL's shared buffers, so the first searches after a
restart run at the speed of later ones.

A hybrid search reads the document frequencies (``term_df``, ``chunk_stats``), the keyword
postings (``chunk_postings``, mostly TOASTed arrays), the HNSW index of each model, the rows of
its best candidates (``chunks`` with their TOASTed ``tsv``, ``embeddings``) and the documents it
returns; the GIN index on ``chunks.tsv`` only serves searches that the postings do not settle
(filters that leave few of their candidates). They are loaded in that order, the GIN index
last, until a budget runs out: ``max_bytes`` and never more than three quarters of
``shared_buffers`` (the rest stays for writes and other queries). The last relation that fits
in part is loaded from its first block.

``pg_prewarm`` loads them when the extension is installed or can be created; without it the
small statistics tables are read through once and the indexes are left to the first searches.
One process warms a server at a time (an advisory lock); the others skip.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from zhiku.store.postgres.db import PgDatabase

log = logging.getLogger(__name__)

SHARED_BUFFERS_SHARE = 0.75
_WARM_LOCK = 0x7A6877726D  # one process warms at a time: the buffers are the server's
_STATS = ("term_df", "term_df_pkey", "chunk_stats", "chunk_stats_pkey")
_KEYWORD = ("chunk_postings_pkey", "chunk_postings", "chunk_postings_toast")
_ROWS = ("chunks", "chunks_toast", "chunks_pkey", "embeddings", "embeddings_pkey",
         "documents", "documents_pkey")

# The relations of the given names (in their order), then the HNSW indexes on embeddings, with
# their sizes in blocks. "<table>_toast" is the TOAST table of <table> (its long values).
_RELATIONS = """
WITH rels AS (
    SELECT w.n, w.name, CASE WHEN w.name LIKE '%%\\_toast'
        THEN (SELECT nullif(reltoastrelid, 0) FROM pg_class
              WHERE oid = to_regclass(left(w.name, -6)))
        ELSE to_regclass(w.name)::oid END AS oid
    FROM unnest(%s::text[]) WITH ORDINALITY AS w(name, n)
    UNION ALL
    SELECT 1000000 + row_number() OVER (ORDER BY c.relname), c.relname::text, c.oid
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
    WHERE i.indrelid = to_regclass('embeddings') AND a.amname = 'hnsw'
)
SELECT name, oid, pg_relation_size(oid) / current_setting('block_size')::bigint
FROM rels WHERE oid IS NOT NULL ORDER BY n
"""


@dataclass(slots=True)
class WarmReport:
    """What one warm-up loaded: blocks per relation, by which method, in how long."""

    method: str  # "pg_prewarm", "read" (without the extension) or "none"
    blocks: dict[str, int] = field(default_factory=dict)
    budget_blocks: int = 0
    seconds: float = 0.0

    @property
    def mb(self) -> float:
        """Megabytes loaded (8 KiB blocks)."""
        return round(sum(self.blocks.values()) * 8192 / 2**20, 1)


def relations(conn: psycopg.Connection[Any]) -> list[tuple[str, int, int]]:
    """``(name, oid, blocks)`` of what searches read, in loading order: the statistics, the
    keyword postings, the HNSW indexes, the rows, then the GIN index."""
    found = [(str(r[0]), int(r[1]), int(r[2])) for r in conn.execute(
        _RELATIONS, ([*_STATS, *_KEYWORD, *_ROWS, "chunks_tsv"],)).fetchall()]
    named = {*_STATS, *_KEYWORD, *_ROWS, "chunks_tsv"}
    first = [r for r in found if r[0] in {*_STATS, *_KEYWORD}]
    hnsw = [r for r in found if r[0] not in named]
    rows = [r for r in found if r[0] in _ROWS]
    gin = [r for r in found if r[0] == "chunks_tsv"]
    return [*first, *hnsw, *rows, *gin]


def _has_prewarm(conn: psycopg.Connection[Any]) -> bool:
    """Whether ``pg_prewarm`` is installed, creating it where it is available and allowed."""
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_prewarm'").fetchone():
        return True
    if not conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_prewarm'"
    ).fetchone():
        return False
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    except psycopg.Error as exc:  # no privilege: warm what a plain read can
        log.info("pg_prewarm is not installed and cannot be created here (%s)", exc)
        return False
    return True


def budget_blocks(conn: psycopg.Connection[Any], max_bytes: int) -> int:
    """Blocks a warm-up may load: ``max_bytes`` and at most 3/4 of ``shared_buffers``."""
    row = conn.execute(
        "SELECT setting::bigint, current_setting('block_size')::bigint FROM pg_settings "
        "WHERE name = 'shared_buffers'"
    ).fetchone()
    shared, block = (int(row[0]), int(row[1])) if row else (16384, 8192)
    return max(0, min(max_bytes // block, int(shared * SHARED_BUFFERS_SHARE)))


def warm(db: PgDatabase, max_bytes: int) -> WarmReport | None:
    """Load the relations searches read into shared buffers, within the budget (see above);
    None when another process is warming the same server (one connection, held throughout)."""
    started = time.perf_counter()
    with db.pool.connection() as conn:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (_WARM_LOCK,)).fetchone()
        if not got or not got[0]:
            return None
        try:
            report = _load(conn, max_bytes)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_WARM_LOCK,))
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _load(conn: psycopg.Connection[Any], max_bytes: int) -> WarmReport:
    budget = budget_blocks(conn, max_bytes)
    rels = relations(conn)
    if not _has_prewarm(conn):
        report = WarmReport("read", budget_blocks=budget)
        for name, _oid, blocks in rels:
            if name in ("term_df", "chunk_stats") and blocks <= budget:
                conn.execute(f"SELECT count(*) FROM {name}")  # a fixed name from _STATS
                report.blocks[name] = blocks
        return report
    report = WarmReport("pg_prewarm", budget_blocks=budget)
    left = budget
    for name, oid, blocks in rels:
        take = min(blocks, left)
        if take <= 0:
            continue
        try:
            row = conn.execute(
                "SELECT pg_prewarm(%s::oid::regclass, 'buffer', 'main', 0, %s)", (oid, take - 1)
            ).fetchone()
        except psycopg.Error as exc:  # dropped meanwhile (a re-index), or not ours to read
            log.info("pg_prewarm of %s skipped: %s", name, exc)
            continue
        report.blocks[name] = int(row[0]) if row else 0
        left -= take
    return report
