"""PostgreSQL connections from a psycopg pool, behind the same interface as the SQLite ones.

Outside a transaction each statement borrows a pooled connection (autocommit) and hands it
back with its rows already fetched, so any number of threads share ``pool_size`` connections.
Inside ``write()`` the thread keeps one connection for the whole transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

import psycopg
from psycopg.rows import RowMaker
from psycopg_pool import ConnectionPool

from zhiku.core.errors import InvalidInput, ZhikuError

if TYPE_CHECKING:
    from zhiku.store.db import Connection as ConnectionLike


class Row(tuple[Any, ...]):
    """A result row readable by position and by column name, like ``sqlite3.Row``."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """Column names, in order."""
        return list(self._index)


@lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: psycopg.Cursor[Any]) -> RowMaker[Row]:
    names = tuple(c.name for c in cursor.description or ())
    cls = _row_class(names)

    def make(values: Sequence[Any]) -> Row:
        return cls(values)

    return make


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """``?`` placeholders to ``%s`` (outside string literals) and literal ``%`` to ``%%``."""
    parts = sql.split("'")
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        parts[i] = parts[i].replace("%", "%%").replace("?", "%s")
    for i in range(1, len(parts), 2):
        parts[i] = parts[i].replace("%", "%%")
    return "'".join(parts)


class Result:
    """Rows fetched before the connection went back to the pool."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self._rows: list[Any] = cur.fetchall() if cur.description else []
        self.rowcount = cur.rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class PgConnection:
    """``execute`` on the thread's transaction connection, or on a pooled one."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def execute(self, sql: str, parameters: Any = (), /) -> Result:
        with _nul_refused(), self._db.raw() as conn:
            return Result(conn.execute(translate(sql), tuple(parameters)))

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Result:
        with _nul_refused(), self._db.raw() as conn, conn.cursor() as cur:
            cur.executemany(translate(sql), [tuple(p) for p in seq_of_parameters])
            return Result(cur)


@contextmanager
def _nul_refused() -> Iterator[None]:
    """PostgreSQL text cannot hold U+0000 (SQLite's can): a value with one is bad input, not a
    server error."""
    try:
        yield
    except psycopg.DataError as exc:
        if "NUL (0x00)" not in str(exc):
            raise
        raise InvalidInput("text cannot contain NUL characters (U+0000)") from exc


_ISO = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"


class PgDatabase:
    """A PostgreSQL database shared by the threads of one process. Its writers run
    concurrently, so row locks, skip-locked claims and advisory locks are real here."""

    dialect = "postgresql"
    now = f"to_char(clock_timestamp() AT TIME ZONE 'UTC', {_ISO})"
    later = f"to_char((clock_timestamp() + ? * interval '1 second') AT TIME ZONE 'UTC', {_ISO})"
    IntegrityError: type[Exception] = psycopg.IntegrityError
    Error: type[Exception] = psycopg.Error

    def __init__(self, url: str, *, pool_size: int = 16, timeout: float = 30.0) -> None:
        self.url = url
        self.pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=timeout,
            kwargs={"autocommit": True, "row_factory": _row_factory},
            open=False,
            name="zhiku",
        )
        try:
            self.pool.open(wait=True, timeout=timeout)
        except Exception as exc:
            self.pool.close()
            raise ZhikuError(f"cannot connect to PostgreSQL: {_redact(url)}: {exc}") from exc
        self._local = threading.local()
        self._conn = PgConnection(self)
        self.listen_url: str | None = url

    @property
    def conn(self) -> PgConnection:
        """A connection-like object for this thread."""
        return self._conn

    @contextmanager
    def raw(self) -> Iterator[psycopg.Connection[Row]]:
        """The thread's transaction connection inside ``write()``, else a pooled one."""
        tx: psycopg.Connection[Row] | None = getattr(self._local, "tx", None)
        if tx is not None:
            yield tx
            return
        with self.pool.connection() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[PgConnection]:
        """A transaction: committed on success, rolled back on any exception. Nested calls join
        the outer transaction."""
        if getattr(self._local, "tx", None) is not None:
            yield self._conn
            return
        with self.pool.connection() as conn, conn.transaction():
            self._local.tx = conn
            try:
                yield self._conn
            finally:
                self._local.tx = None

    def lock_row(self, of: str | None = None) -> str:
        """`` FOR UPDATE`` (of the table alias ``of``, in a join)."""
        return f" FOR UPDATE OF {of}" if of else " FOR UPDATE"

    def skip_locked(self, of: str | None = None) -> str:
        """`` FOR UPDATE … SKIP LOCKED``: rows other transactions hold are passed over."""
        return self.lock_row(of) + " SKIP LOCKED"

    def advisory_lock(self, conn: ConnectionLike, key: int | str) -> None:
        """A transaction-scoped advisory lock on ``key`` (text keys are hashed)."""
        if isinstance(key, str):
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (key,))
        else:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (key,))

    def notify(self, conn: ConnectionLike, channel: str) -> None:
        """``NOTIFY channel``, delivered when the transaction commits (never on rollback)."""
        conn.execute(f"NOTIFY {channel}")

    def close(self) -> None:
        """Close the pool."""
        self.pool.close()


def _redact(url: str) -> str:
    """The URL without its password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
