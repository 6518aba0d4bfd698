"""SQLite connections per thread: those of threads that ended are closed (each would otherwise
keep its page cache for the life of the process); one still held stays open until the database
closes."""

from __future__ import annotations

import gc
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from zhiku.store.db import Connection
from zhiku.store.sqlite.db import Database


def in_thread(work: Callable[[], object]) -> None:
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


def open_connections(db: Database) -> int:
    gc.collect()
    return sum(ref() is not None for ref in db._all)


def test_connections_of_ended_threads_close_and_held_ones_stay(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    db.conn.execute("CREATE TABLE t (x INTEGER)")
    for n in range(5):
        in_thread(lambda n=n: db.conn.execute("INSERT INTO t VALUES (?)", (n,)))
    assert open_connections(db) == 1  # five threads came and went; only ours is left

    held: list[Connection] = []
    in_thread(lambda: held.append(db.conn))
    assert open_connections(db) == 2
    assert held[0].execute("SELECT count(*) FROM t").fetchone()[0] == 5  # still usable
    db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        held[0].execute("SELECT 1")
