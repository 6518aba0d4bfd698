"""The database behind a ``Zhiku`` instance (evaluation tables live beside the core's)."""

from __future__ import annotations

from typing import Protocol

from zhiku.core.errors import MissingDependency
from zhiku.store.db import Database


class _WithStore(Protocol):
    @property
    def store(self) -> object: ...


def database(zk: _WithStore) -> Database:
    """The workspace's database (SQLite or PostgreSQL)."""
    db: Database | None = getattr(zk.store, "db", None)
    if db is None or not hasattr(db, "dialect"):
        raise MissingDependency("evaluation data needs a store with a database")
    return db
