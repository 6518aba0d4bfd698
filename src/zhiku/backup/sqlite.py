"""The SQLite database of a backup: copied with SQLite's online backup API, which reads one
consistent snapshot while the server and ingestion keep writing (WAL readers never wait for
writers), then checked; restored by copying the file back after the same checks."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from zhiku.core.errors import ZhikuError


def copy_online(source: Path, dest: Path) -> None:
    """Copy the live database ``source`` into the new file ``dest`` in one step (one read
    transaction: a consistent snapshot, whatever is committed meanwhile)."""
    with closing(sqlite3.connect(source, timeout=60)) as src, \
            closing(sqlite3.connect(dest)) as dst:
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it


def check_file(path: Path) -> int:
    """Run SQLite's integrity and foreign-key checks on ``path``; its schema version."""
    with closing(sqlite3.connect(path)) as conn:
        result = conn.execute("PRAGMA integrity_check").fetchall()
        if [tuple(r) for r in result] != [("ok",)]:
            raise ZhikuError(f"{path.name} fails SQLite's integrity check: "
                             + "; ".join(str(r[0]) for r in result[:5]))
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise ZhikuError(f"{path.name} has {len(broken)} rows whose foreign key points "
                             f"nowhere (first in table {broken[0][0]})")
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def is_empty(path: Path) -> bool:
    """Whether ``path`` holds no Zhiku database (absent, empty, or without tables)."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                            ).fetchone()[0] == 0
