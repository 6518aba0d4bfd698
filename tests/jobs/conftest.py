"""A migrated database of each backend for the queue tests (real SQLite file, real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pgtest import backend_params
from zhiku.jobs import JobQueue, QueueOptions
from zhiku.store.db import Database
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.sqlite.db import Database as SqliteDatabase
from zhiku.store.sqlite.migrations import migrate


@pytest.fixture(params=backend_params())
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated database of the run's backend (``ZHIKU_TEST_BACKEND``)."""
    if request.param == "sqlite":
        lite = SqliteDatabase(tmp_path / "queue.db")
        migrate(lite.conn)
        yield lite
        lite.close()
        return
    url: str = request.getfixturevalue("pg_url")
    pg = PgDatabase(url, pool_size=12)
    yield pg
    pg.close()


@pytest.fixture
def make_queue(db: Database) -> Callable[..., JobQueue]:
    """``make_queue(lease_seconds=…, max_attempts=…, retry_seconds=…)`` on the test database."""

    def make(**options: float) -> JobQueue:
        return JobQueue(db, QueueOptions(**options))  # type: ignore[arg-type]

    return make
