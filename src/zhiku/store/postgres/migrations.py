"""Numbered schema migrations for PostgreSQL, tracked in ``zhiku_schema``.

Each migration runs in one transaction together with its version row, under an advisory lock,
so concurrent processes starting against a live database migrate exactly once.
"""

from __future__ import annotations

from zhiku.store.migrations import scripts
from zhiku.store.postgres.db import PgDatabase

_LOCK_ID = 0x7A68696B75  # "zhiku"

# The same numbering as the SQLite migrations. Each entry is one SQL script (empty where a
# migration has nothing for PostgreSQL).
MIGRATIONS: list[str] = scripts("postgres")


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
                if script.strip():  # several statements: simple query protocol
                    conn.execute(script.encode())
                conn.execute("INSERT INTO zhiku_schema (version) VALUES (%s)", (number,))
        row = conn.execute("SELECT coalesce(max(version), 0) FROM zhiku_schema").fetchone()
        return int(row[0]) if row is not None else 0
