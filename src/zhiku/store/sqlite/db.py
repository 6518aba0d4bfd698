"""SQLite connections: one per thread, WAL, foreign keys, and write transactions."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zhiku.store.db import Connection


class _Connection(sqlite3.Connection):
    """A connection that can be referred to weakly (``Database`` keeps such references)."""


class Database:
    """A SQLite file shared by the threads of one process.

    Each thread gets its own connection. ``write()`` opens ``BEGIN IMMEDIATE`` so writers queue
    on the database lock instead of failing half-way; readers never block under WAL. Since
    writers take turns, row locks, skip-locked clauses and advisory locks are empty here, and
    nothing listens for notifications (runners on one machine poll).
    """

    dialect = "sqlite"
    now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    later = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('%+.3f seconds', ?))"
    listen_url: str | None = None
    IntegrityError: type[Exception] = sqlite3.IntegrityError
    Error: type[Exception] = sqlite3.Error

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # weakly: a thread's connection closes once the thread has ended and nothing else holds
        # it (threads come and go: an ingestion run's embedding thread, idle request workers),
        # rather than keeping its page cache and file handles for the life of the process
        self._all: list[weakref.ref[_Connection]] = []
        self._lock = threading.Lock()
        # Writers of this process queue here, not on SQLite's busy handler (which sleeps in
        # steps of up to 100 ms): the ingest thread and the embedding thread take turns at once.
        self._write_lock = threading.Lock()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=60.0, isolation_level=None, check_same_thread=False,
            factory=_Connection,
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA mmap_size=268435456")
        with self._lock:
            self._all = [ref for ref in self._all if ref() is not None]
            self._all.append(weakref.ref(conn))
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        conn = self.conn
        if conn.in_transaction:  # nested: join the outer transaction
            yield conn
            return
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def lock_row(self, of: str | None = None) -> str:
        """Nothing: the write transaction already excludes every other writer."""
        return ""

    def skip_locked(self, of: str | None = None) -> str:
        """Nothing: no other writer can hold a row while this one runs."""
        return ""

    def advisory_lock(self, conn: Connection, key: int | str) -> None:
        """Nothing to take: the write transaction is already the only one."""

    def notify(self, conn: Connection, channel: str) -> None:
        """Nothing to send: runners of a SQLite file poll."""

    def close(self) -> None:
        """Close every connection this object opened."""
        with self._lock:
            for ref in self._all:
                if (conn := ref()) is not None:
                    conn.close()
            self._all.clear()
        self._local = threading.local()
