"""Waking workers the moment a job is queued, across processes and machines.

On PostgreSQL ``JobQueue`` sends ``NOTIFY zhiku_jobs`` in the transaction that queues a job
(delivered when it commits, never for a job that rolled back); each runner keeps one connection
listening and wakes its threads. Without it a ``zhiku worker`` in another process would find
new jobs only at its next poll. On SQLite, where every process is on one machine, runners poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from zhiku.store.db import Connection, Database

log = logging.getLogger(__name__)

CHANNEL = "zhiku_jobs"


def notify(db: Database, conn: Connection) -> None:
    """Announce, inside the caller's transaction, that a job became due (where the database
    has listeners: PostgreSQL)."""
    db.notify(conn, CHANNEL)


class Listener:
    """A thread that calls ``wake`` whenever a job is announced; reconnects after failures."""

    def __init__(self, url: str, wake: Callable[[], None], *, check_seconds: float = 1.0) -> None:
        self._url = url
        self._wake = wake
        self._check = check_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zhiku-jobs-listen", daemon=True)
        self.listening = threading.Event()

    def start(self) -> None:
        """Start listening (``listening`` is set once the first LISTEN has run)."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening (within ``check_seconds``)."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg  # the postgres extra: listeners exist only on PostgreSQL

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self._wake()  # jobs queued while we were not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=self._check):
                            self._wake()
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("job notifications: %s; polling until reconnected", exc)
                self._stop.wait(self._check)


def listener(db: Database, wake: Callable[[], None]) -> Listener | None:
    """A listener for ``db`` when it can notify (PostgreSQL), else None (runners poll)."""
    return None if db.listen_url is None else Listener(db.listen_url, wake)
