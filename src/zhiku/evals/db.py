"""The database behind a ``Zhiku`` instance (evaluation tables live beside the core's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhiku.core.errors import MissingDependency
from zhiku.store.db import Database

if TYPE_CHECKING:
    from zhiku.service import Zhiku


def database(zk: Zhiku) -> Database:
    """The workspace's database (SQLite or PostgreSQL)."""
    db: Database | None = getattr(zk.store, "db", None)
    if db is None or not hasattr(db, "dialect"):
        raise MissingDependency("evaluation data needs a store with a database")
    return db
