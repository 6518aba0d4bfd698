"""Reading the SQLite source: one read transaction (a consistent snapshot even while Zhiku keeps
writing the file), rows streamed in key order, never the whole table in memory."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from zhiku.core.errors import InvalidInput, NotFound
from zhiku.store.sqlite.migrations import MIGRATIONS
from zhiku.store.sqlite.migrations import migrate as sqlite_migrate


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///path`` URL (a plain path is taken as it is)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    if "://" in url:
        raise InvalidInput(f"--from must be sqlite:///path/to/zhiku.db, not {url.split(':')[0]}")
    return Path(url)


class SqliteSource:
    """A SQLite Zhiku database, read inside one transaction."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise NotFound(f"no SQLite database at {path}")
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout=60000")
        if self._version() < len(MIGRATIONS):  # what any zhiku command would do first
            sqlite_migrate(self.conn)
        self.conn.execute("BEGIN")
        self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # start the snapshot

    def close(self) -> None:
        """End the read transaction and close the file."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()

    def _version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def tables(self) -> list[str]:
        """Every table (virtual tables included), by name."""
        rows = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        return [r[0] for r in rows]

    def columns(self, table: str) -> list[str]:
        """Column names in declaration order."""
        return [r[1] for r in self.conn.execute(f'PRAGMA table_info("{table}")')]

    def primary_key(self, table: str) -> list[str]:
        """Primary-key columns in key order."""
        rows = [r for r in self.conn.execute(f'PRAGMA table_info("{table}")') if r[5]]
        return [r[1] for r in sorted(rows, key=lambda r: r[5])]

    def count(self, table: str) -> int:
        """Rows in ``table``."""
        return int(self.conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    def sequence(self, table: str) -> int:
        """The largest id AUTOINCREMENT ever handed out (deleted rows included), else 0."""
        try:
            row = self.conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
            ).fetchone()
        except sqlite3.OperationalError:  # no AUTOINCREMENT table at all
            return 0
        return int(row[0]) if row is not None else 0

    def rows(
        self,
        table: str,
        columns: Sequence[str],
        key: Sequence[str],
        batch: int,
        *,
        terms: bool = False,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of ``table`` in key order, ``batch`` at a time. With ``terms`` (chunks only)
        each row ends with its full-text terms (space separated; None when it has none)."""
        cols = ", ".join(f't."{c}"' for c in columns)
        order = ", ".join(f't."{c}"' for c in key)
        if terms:
            query = (
                f"SELECT {cols}, f.terms FROM chunks t LEFT JOIN chunks_fts f "
                f"ON f.rowid = t.id ORDER BY {order}"
            )
        else:
            query = f'SELECT {cols} FROM "{table}" t ORDER BY {order}'
        cur = self.conn.execute(query)
        while True:
            part = cur.fetchmany(batch)
            if not part:
                return
            yield part

    def keys(self, table: str, key: Sequence[str], batch: int) -> Iterator[list[tuple[Any, ...]]]:
        """The primary keys of ``table`` in key order."""
        return self.rows(table, key, key, batch)
