"""Numbered schema migrations for the SQLite backend, tracked in ``PRAGMA user_version``."""

from __future__ import annotations

import sqlite3

from zhiku.store.migrations import scripts

# Each migration is one SQL script, run in one transaction together with the version bump.
MIGRATIONS: list[str] = scripts("sqlite")


def migrate(db: sqlite3.Connection, migrations: list[str] | None = None) -> int:
    """Apply every migration newer than the database's ``user_version``; return the new version.

    Each script runs with its version bump in one ``BEGIN IMMEDIATE`` transaction, so a crash
    leaves the database at the previous version, and concurrent processes migrate once.
    """
    steps = MIGRATIONS if migrations is None else migrations
    for number, script in enumerate(steps, start=1):
        if _version(db) >= number:
            continue
        try:
            db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
        except sqlite3.OperationalError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            # Lost a race with another process that applied the same migration first.
            if "already exists" in str(exc) and _version(db) >= number:
                continue
            raise
    return _version(db)


def _version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])
