"""The migration list itself: numbering, the dialect terms, and rendering."""

from __future__ import annotations

import pytest

from zhiku.store.migrations import MIGRATIONS, scripts
from zhiku.store.migrations.migration import TERMS, render
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.migrations import MIGRATIONS as POSTGRES_SCRIPTS
from zhiku.store.sqlite.db import Database as SqliteDatabase
from zhiku.store.sqlite.migrations import MIGRATIONS as SQLITE_SCRIPTS


def test_migrations_are_numbered_one_by_one_and_each_does_something() -> None:
    assert [m.number for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    for m in MIGRATIONS:
        assert m.script("sqlite").strip() or m.script("postgres").strip(), m.name


def test_both_runners_apply_the_same_list() -> None:
    assert scripts("sqlite") == SQLITE_SCRIPTS
    assert scripts("postgres") == POSTGRES_SCRIPTS
    assert len(SQLITE_SCRIPTS) == len(POSTGRES_SCRIPTS) == len(MIGRATIONS)


def test_the_dialect_terms_stamp_time_like_the_databases() -> None:
    assert TERMS["sqlite"]["NOW"] == f"({SqliteDatabase.now})"
    assert TERMS["postgres"]["NOW"] == PgDatabase.now
    assert set(TERMS["sqlite"]) == set(TERMS["postgres"])


def test_render_replaces_terms_only() -> None:
    sql = "CREATE TABLE t (id {ID}, at {TEXT_C} DEFAULT {NOW}, meta TEXT DEFAULT '{}')"
    assert render(sql, "sqlite") == (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT "
        "DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), meta TEXT DEFAULT '{}')"
    )
    assert render("x {TEXT_C}", "postgres") == 'x TEXT COLLATE "C"'
    with pytest.raises(KeyError):
        render("CREATE TABLE t (id {NO_SUCH_TERM})", "sqlite")
