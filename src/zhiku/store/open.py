"""Open the store that the settings name: SQLite (the embedded default) or PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhiku.store.protocols import Store

if TYPE_CHECKING:
    from zhiku.core.settings import Settings


def open_store(settings: Settings) -> Store:
    """The store of ``settings.database_url`` (PostgreSQL) or else the SQLite file
    ``settings.db_path``, migrated to the latest schema."""
    if settings.is_postgres:
        from zhiku.store.postgres.store import PostgresStore

        return PostgresStore(settings.database_url or "", pool_size=settings.pg_pool_size)
    from zhiku.store.sqlite.store import SqliteStore

    return SqliteStore(settings.db_path, memory_keyword_rows=settings.memory_keyword_rows)

