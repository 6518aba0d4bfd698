"""Migration 20 on a database that holds an assistant's release data (bound, scored, a forced
release recorded): every row stays, now keyed ``('assistant', id)``, new rows of any app kind
can be written, and deleting an app deletes its rows, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import pgtest
from pgtest import backend_params
from zhiku.store.db import Database
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.migrations import MIGRATIONS as PG_MIGRATIONS
from zhiku.store.postgres.migrations import migrate as pg_migrate
from zhiku.store.sqlite.db import Database as SqliteDatabase
from zhiku.store.sqlite.migrations import MIGRATIONS
from zhiku.store.sqlite.migrations import migrate as sqlite_migrate

BEFORE = 15
"""The migration that made the assistants' release tables."""


@pytest.fixture(params=backend_params())
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database migrated up to ``BEFORE`` only."""
    if request.param == "sqlite":
        lite = SqliteDatabase(tmp_path / "old.db")
        sqlite_migrate(lite.conn, MIGRATIONS[:BEFORE])
        yield lite
        lite.close()
        return
    name = f"zhiku_old{next(pgtest._counter)}"
    pgtest._execute(f"CREATE DATABASE {name}")
    url = pgtest.with_database(pgtest.admin_url(), name)
    pg = PgDatabase(url, pool_size=2)
    pg_migrate(pg, PG_MIGRATIONS[:BEFORE])
    try:
        yield pg
    finally:
        pg.close()
        pgtest.drop_database(url)


def _migrate(db: Database) -> None:
    if isinstance(db, PgDatabase):
        assert pg_migrate(db) == len(PG_MIGRATIONS)
    else:
        assert sqlite_migrate(db.conn) == len(MIGRATIONS)  # type: ignore[attr-defined]


def _one(db: Database, sql: str, args: tuple[object, ...] = ()) -> tuple[object, ...]:
    row = db.conn.execute(sql, args).fetchone()
    assert row is not None
    return tuple(row)


def test_assistant_release_rows_survive_and_every_kind_is_keyed(old_db: Database) -> None:
    db = old_db
    with db.write() as conn:
        conn.execute("INSERT INTO workspaces (name) VALUES ('acme')")
        ws = conn.execute("SELECT id FROM workspaces WHERE name = 'acme'").fetchone()[0]
        bot = conn.execute(
            "INSERT INTO assistants (workspace_id, slug, name, draft) "
            "VALUES (?, 'hr-bot', 'HR Bot', '{}') RETURNING id", (ws,)).fetchone()[0]
        run = conn.execute("INSERT INTO eval_runs (workspace_id, set_name, target, status) "
                           "VALUES (?, 'hr', 'app:hr-bot', 'done') RETURNING id",
                           (ws,)).fetchone()[0]
        conn.execute("INSERT INTO release_bindings (assistant_id, set_name, top_k, metrics) "
                     "VALUES (?, 'hr', 5, '[\"f1\"]')", (bot,))
        conn.execute("INSERT INTO release_scorecards (assistant_id, run_id, config_hash, "
                     "set_hash, corpus_hash) VALUES (?, ?, 'c', 's', 'k')", (bot, run))
        conn.execute("INSERT INTO release_records (assistant_id, version, set_name, "
                     "scorecard_run_id, forced_by, force_reason) "
                     "VALUES (?, 2, 'hr', ?, 'alice', 'legal')", (bot, run))
    _migrate(db)

    assert _one(db, "SELECT app_kind, app_id, set_name, top_k, metrics FROM release_bindings"
                ) == ("assistant", bot, "hr", 5, '["f1"]')
    assert _one(db, "SELECT app_kind, app_id, run_id, config_hash, set_hash, corpus_hash "
                "FROM release_scorecards") == ("assistant", bot, run, "c", "s", "k")
    assert _one(db, "SELECT app_kind, app_id, version, scorecard_run_id, forced_by, "
                "force_reason FROM release_records") == ("assistant", bot, 2, run, "alice",
                                                         "legal")
    with db.write() as conn:
        flow = conn.execute(
            "INSERT INTO workflows (workspace_id, slug, name, draft) "
            "VALUES (?, 'faq', 'FAQ', '{}') RETURNING id", (ws,)).fetchone()[0]
        conn.execute("INSERT INTO release_bindings (app_kind, app_id, set_name) "
                     "VALUES ('workflow', ?, 'hr')", (flow,))
        conn.execute("INSERT INTO release_scorecards (app_kind, app_id, run_id, config_hash, "
                     "set_hash, corpus_hash) VALUES ('workflow', ?, ?, 'c', 's', 'k')",
                     (flow, run))
    count = "SELECT count(*) FROM release_bindings WHERE app_kind = ?"
    assert _one(db, count, ("workflow",)) == (1,)
    with db.write() as conn:
        conn.execute("DELETE FROM workflows WHERE id = ?", (flow,))
    assert _one(db, count, ("workflow",)) == (0,)
    assert _one(db, "SELECT count(*) FROM release_scorecards WHERE app_kind = 'workflow'"
                ) == (0,)
    assert _one(db, count, ("assistant",)) == (1,)  # another kind's id is another app
    with db.write() as conn:
        conn.execute("DELETE FROM assistants WHERE id = ?", (bot,))
    for table in ("release_bindings", "release_scorecards", "release_records"):
        assert _one(db, f"SELECT count(*) FROM {table}") == (0,)
