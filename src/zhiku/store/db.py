"""The narrow database interface shared by every module that writes SQL.

Both backends hand out connections whose ``execute`` takes ``?`` placeholders and returns rows
readable by position and by column name. SQL written against this interface stays in the
portable subset of SQLite and PostgreSQL: ``INSERT … RETURNING id`` (never ``lastrowid``),
``ON CONFLICT … DO NOTHING / DO UPDATE`` (never ``INSERT OR …``), ``db.now`` for timestamps, and
``db.IntegrityError`` for constraint violations. Backend-specific SQL (FTS5, pgvector) lives in
``store/sqlite`` and ``store/postgres`` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from zhiku.core.settings import Settings

Row = Any  # sqlite3.Row or the PostgreSQL equivalent: row[0] and row["name"] both work


class Cursor(Protocol):
    """What ``execute`` returns."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection (or, on PostgreSQL, a pooled stand-in for one) of the calling thread."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Cursor: ...


class Database(Protocol):
    """One database, shared by the threads of a process."""

    dialect: str  # "sqlite" or "postgresql"
    now: str  # SQL expression: the current UTC time as ISO-8601 text ending in Z
    IntegrityError: type[Exception]
    Error: type[Exception]

    @property
    def conn(self) -> Connection: ...
    def write(self) -> AbstractContextManager[Connection]: ...
    def close(self) -> None: ...


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """The database ``settings`` name (SQLite file or PostgreSQL URL), migrated to the latest
    schema unless ``migrate`` is False."""
    if settings.is_postgres:
        from zhiku.store.postgres.db import PgDatabase
        from zhiku.store.postgres.migrations import migrate as pg_migrate

        pg = PgDatabase(settings.database_url or "", pool_size=settings.pg_pool_size)
        if migrate:
            pg_migrate(pg)
        return pg
    from zhiku.store.sqlite.db import Database as SqliteDatabase
    from zhiku.store.sqlite.migrations import migrate as sqlite_migrate

    db = SqliteDatabase(settings.db_path)
    if migrate:
        sqlite_migrate(db.conn)
    return db
