"""Numbered schema migrations for PostgreSQL, tracked in ``zhiku_schema``.

Each migration runs in one transaction together with its version row, under an advisory lock,
so concurrent processes starting against a live database migrate exactly once.
"""

from __future__ import annotations

from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.schema_m001_core import M001_CORE
from zhiku.store.postgres.schema_m002_llm import M002_LLM
from zhiku.store.postgres.schema_m003_evals import M003_EVALS
from zhiku.store.postgres.schema_m004_graph import M004_GRAPH
from zhiku.store.postgres.schema_m005_api import M005_API
from zhiku.store.postgres.schema_m006_keyword import M006_KEYWORD
from zhiku.store.postgres.schema_m007_queue import M007_QUEUE
from zhiku.store.postgres.schema_m008_term_stats import M008_TERM_STATS
from zhiku.store.postgres.schema_m009_conversation_owner import M009_CONVERSATION_OWNER
from zhiku.store.postgres.schema_m010_invitations import M010_INVITATIONS
from zhiku.store.postgres.schema_m011_workflows import M011_WORKFLOWS
from zhiku.store.postgres.schema_m012_agents import M012_AGENTS

_LOCK_ID = 0x7A68696B75  # "zhiku"

# The same numbering as the SQLite migrations. Each entry is one SQL script.
MIGRATIONS: list[str] = [
    M001_CORE,
    M002_LLM,
    M003_EVALS,
    M004_GRAPH,
    M005_API,
    M006_KEYWORD,
    M007_QUEUE,
    M008_TERM_STATS,
    M009_CONVERSATION_OWNER,
    M010_INVITATIONS,
    M011_WORKFLOWS,
    M012_AGENTS,
]


def migrate(db: PgDatabase, migrations: list[str] | None = None) -> int:
    """Apply every migration newer than the database's version; return the new version."""
    steps = MIGRATIONS if migrations is None else migrations
    with db.pool.connection() as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS zhiku_schema (version INTEGER PRIMARY KEY, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        for number, script in enumerate(steps, start=1):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
                row = conn.execute("SELECT coalesce(max(version), 0) FROM zhiku_schema").fetchone()
                if row is not None and int(row[0]) >= number:
                    continue
                conn.execute(script.encode())  # several statements: simple query protocol
                conn.execute("INSERT INTO zhiku_schema (version) VALUES (%s)", (number,))
        row = conn.execute("SELECT coalesce(max(version), 0) FROM zhiku_schema").fetchone()
        return int(row[0]) if row is not None else 0
