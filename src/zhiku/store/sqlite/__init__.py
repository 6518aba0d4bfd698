"""The embedded backend: one SQLite file (WAL, foreign keys, FTS5 on pre-tokenized terms)."""

from zhiku.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
