"""A database from before the queue owned the whole ``jobs`` table: the migration drops the
ingestion pipeline's run records and renames ``api_<kind>`` queue jobs, which then run; eval
runs left ``running`` (no job can finish them) are marked failed."""

from __future__ import annotations

import re

from zhiku.jobs import JobQueue
from zhiku.store.db import Database
from zhiku.store.migrations import scripts
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.migrations import MIGRATIONS as PG_MIGRATIONS
from zhiku.store.postgres.migrations import migrate as pg_migrate
from zhiku.store.sqlite.migrations import MIGRATIONS
from zhiku.store.sqlite.migrations import migrate as sqlite_migrate


def _later_tables() -> list[str]:
    """Tables the migrations after 11 create, newest first, each once (a table a later
    migration rebuilds is created twice; dropped to go back to 10)."""
    found = re.findall(r"CREATE TABLE (\w+)", "\n".join(scripts("sqlite")[11:]))
    return list(dict.fromkeys(reversed(found)))


def _later_columns() -> list[tuple[str, str]]:
    """(table, column) pairs the migrations after 11 add to older tables, newest first."""
    found = re.findall(r"ALTER TABLE (\w+) ADD COLUMN (\w+)", "\n".join(scripts("sqlite")[11:]))
    return list(reversed(found))


def _back_to_10(db: Database) -> None:
    """Undo migration 11 (its rows and its column), the later migrations' tables, the columns
    they added to older tables (with their indexes and SQLite triggers), and the record of
    them."""
    later_sql = "\n".join(scripts("sqlite")[11:])
    triggers = re.findall(r"CREATE TRIGGER (\w+)", later_sql)
    indexes = re.findall(r"CREATE (?:UNIQUE )?INDEX (?:IF NOT EXISTS )?(\w+)", later_sql)
    later = "".join(f"DROP TRIGGER IF EXISTS {name}; " for name in triggers)
    later += "".join(f"DROP INDEX IF EXISTS {name}; " for name in indexes)
    later += "".join(f"ALTER TABLE {t} DROP COLUMN {c}; " for t, c in _later_columns())
    later += "".join(f"DROP TABLE {table}; " for table in _later_tables())
    if isinstance(db, PgDatabase):
        pg_later = "\n".join(scripts("postgres")[11:])
        with db.write() as conn:
            # PostgreSQL-only objects of later migrations (their triggers go with the functions)
            for name in re.findall(r"CREATE FUNCTION (\w+)", pg_later):
                conn.execute(f"DROP FUNCTION {name} CASCADE")
            for name in re.findall(r"CREATE TABLE (\w+)", pg_later):
                if name not in _later_tables():
                    conn.execute(f"DROP TABLE {name}")
            for name in re.findall(r"CREATE SEQUENCE (\w+)", pg_later):
                conn.execute(f"DROP SEQUENCE {name}")
            for table, column in _later_columns():
                conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            for table in _later_tables():
                conn.execute(f"DROP TABLE {table}")
            conn.execute("DROP INDEX jobs_workspace")
            conn.execute("ALTER TABLE jobs DROP COLUMN workspace_id")
            conn.execute("DELETE FROM zhiku_schema WHERE version > 10")
        return
    db.conn.executescript(  # type: ignore[attr-defined]
        later + "DROP INDEX jobs_workspace; ALTER TABLE jobs DROP COLUMN workspace_id; "
        "PRAGMA user_version = 10;")


def _migrate(db: Database) -> None:
    if isinstance(db, PgDatabase):
        assert pg_migrate(db) == len(PG_MIGRATIONS)
    else:
        assert sqlite_migrate(db.conn) == len(MIGRATIONS)  # type: ignore[attr-defined]


def test_run_records_go_and_queue_jobs_keep_working(db: Database) -> None:
    _back_to_10(db)
    with db.write() as conn:
        kb = conn.execute(
            "INSERT INTO knowledge_bases (workspace_id, name, embedder) "
            "VALUES (1, 'kb', 'hashing') RETURNING id"
        ).fetchall()[0][0]
        for kind, status in (("ingest", "running"), ("ingest", "done"), ("reembed", "failed")):
            conn.execute("INSERT INTO jobs (kind, kb_id, payload, status) VALUES (?, ?, ?, ?)",
                         (kind, kb, '{"embedder": "hashing"}', status))
        for kind, status in (("api_ingest", "queued"), ("api_graph", "done")):
            conn.execute("INSERT INTO jobs (kind, kb_id, payload, status) VALUES (?, ?, ?, ?)",
                         (kind, kb, '{"kb": "kb"}', status))
        for status in ("running", "done"):
            conn.execute("INSERT INTO eval_runs (workspace_id, set_name, target, status) "
                         "VALUES (1, 'set', 'kb:kb', ?)", (status,))
    _migrate(db)

    queue = JobQueue(db)
    assert sorted((j.kind, j.status) for j in queue.list()) == [
        ("graph", "done"), ("ingest", "queued")]
    assert len(queue.list(workspace_id=1)) == 2  # each job now names its workspace
    assert queue.reap() == []  # no run record left "running" for the reaper to requeue
    job = queue.claim("w")
    assert job is not None and (job.kind, job.payload) == ("ingest", {"kb": "kb"})
    runs = db.conn.execute("SELECT status, error FROM eval_runs ORDER BY id").fetchall()
    assert [tuple(r) for r in runs] == [
        ("failed", "the server stopped before the run finished"), ("done", None)]
