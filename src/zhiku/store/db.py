"""The narrow database interface shared by every module that writes SQL.

Both backends hand out connections whose ``execute`` takes ``?`` placeholders and returns rows
readable by position and by column name. SQL written against this interface stays in the
portable subset of SQLite and PostgreSQL: ``INSERT … RETURNING id`` (never ``lastrowid``),
``ON CONFLICT … DO NOTHING / DO UPDATE`` (never ``INSERT OR …``), ``db.now`` for timestamps, and
``db.IntegrityError`` for constraint violations. Backend-specific SQL (FTS5, pgvector) lives in
``store/sqlite`` and ``store/postgres`` only; where portable SQL differs only in a clause (row
locks, time arithmetic, advisory locks, notifications), the ``Database`` object supplies it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from zhiku.core.settings import Settings
    from zhiku.store.postgres.db import PgDatabase
    from zhiku.store.sqlite.db import Database as SqliteDatabase

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
    """One database, shared by the threads of a process.

    Besides connections it carries the few clauses in which the two dialects differ, so that
    SQL outside ``store/`` is written once: SQLite runs one writer at a time (``write()``
    queues), so its row locks, skip-locked clauses and advisory locks are empty, while
    PostgreSQL's writers run concurrently and need them."""

    dialect: str  # "sqlite" or "postgresql"
    now: str  # SQL expression: the current UTC time as ISO-8601 text ending in Z
    later: str  # SQL expression: the current UTC time plus ``?`` seconds, formatted like ``now``
    listen_url: str | None  # where a LISTEN connection for ``notify`` opens; None: cannot
    IntegrityError: type[Exception]
    Error: type[Exception]

    @property
    def conn(self) -> Connection: ...
    def write(self) -> AbstractContextManager[Connection]: ...
    def close(self) -> None: ...
    def lock_row(self, of: str | None = None) -> str:
        """A clause appended to a SELECT whose rows the transaction rewrites: they stay
        locked until it ends (``of``: the table alias to lock in a join)."""
        ...
    def skip_locked(self, of: str | None = None) -> str:
        """A clause appended to a SELECT that picks rows to claim, passing over rows another
        transaction holds (``of`` as for ``lock_row``)."""
        ...
    def advisory_lock(self, conn: Connection, key: int | str) -> None:
        """Make the transaction of ``conn`` the only one holding ``key`` until it ends."""
        ...
    def notify(self, conn: Connection, channel: str) -> None:
        """Announce on ``channel`` when the transaction of ``conn`` commits (where listeners
        can exist; see ``listen_url``)."""
        ...


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """The database ``settings`` name (SQLite file or PostgreSQL URL), migrated to the latest
    schema unless ``migrate`` is False."""
    if settings.is_postgres:
        return open_postgres(settings.database_url or "", pool_size=settings.pg_pool_size,
                             migrate=migrate)
    return open_sqlite(settings.db_path, migrate=migrate)


def open_sqlite(path: Path, *, migrate: bool = True) -> SqliteDatabase:
    """The SQLite file at ``path`` (created if missing), migrated unless ``migrate`` is False."""
    from zhiku.store.sqlite.db import Database as SqliteDb
    from zhiku.store.sqlite.migrations import migrate as sqlite_migrate

    db = SqliteDb(path)
    if migrate:
        try:
            sqlite_migrate(db.conn)
        except BaseException:
            db.close()
            raise
    return db


def open_postgres(url: str, *, pool_size: int = 16, migrate: bool = True) -> PgDatabase:
    """A pool of ``pool_size`` connections to ``url``, migrated unless ``migrate`` is False."""
    from zhiku.store.postgres.db import PgDatabase as PgDb
    from zhiku.store.postgres.migrations import migrate as pg_migrate

    pg = PgDb(url, pool_size=pool_size)
    if migrate:
        try:
            pg_migrate(pg)
        except BaseException:
            pg.close()
            raise
    return pg
