"""The SQLite database behind a ``Zhiku`` instance (evaluation tables live beside the core's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhiku.core.errors import MissingDependency
from zhiku.store.sqlite.db import Database

if TYPE_CHECKING:
    from zhiku.service import Zhiku


def database(zk: Zhiku) -> Database:
    """The workspace's SQLite database; other backends do not store evaluations yet."""
    db = getattr(zk.store, "db", None)
    if not isinstance(db, Database):
        raise MissingDependency("evaluation data needs the SQLite backend")
    return db
