"""Fixtures of the store tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zhiku.store.db import open_postgres
from zhiku.store.postgres.store import PostgresStore


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    """A PostgreSQL store on a fresh database, with a pool of four connections."""
    db = open_postgres(pg_url, pool_size=4)
    store = PostgresStore(db)
    yield store
    store.close()
    db.close()
