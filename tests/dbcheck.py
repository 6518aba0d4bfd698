"""Raw database checks for tests, on either backend: plain SQL through ``zhiku.store.db``
rather than the API under test. Only the full-text tables differ between the backends (SQLite's
``chunks_fts``, PostgreSQL's ``chunks.tsv``), so the helpers here hide that difference."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from zhiku.core.settings import Settings
from zhiku.store.db import Database, open_database
from zhiku.store.postgres.fts import quote


@contextmanager
def raw_database(settings: Settings) -> Iterator[Database]:
    """The settings' database, opened without migrating it, closed afterwards."""
    db = open_database(settings, migrate=False)
    try:
        yield db
    finally:
        db.close()


def count(db: Database, sql: str, params: tuple[object, ...] = ()) -> int:
    """The single integer ``sql`` selects."""
    return int(db.conn.execute(sql, params).fetchone()[0])


def fulltext_rows(db: Database, chunk_ids_sql: str | None = None) -> int:
    """How many chunks have full-text terms, among ``chunk_ids_sql`` (a query selecting chunk
    ids) when given."""
    if db.dialect == "sqlite":
        where = f" WHERE rowid IN ({chunk_ids_sql})" if chunk_ids_sql else ""
        return count(db, f"SELECT count(*) FROM chunks_fts{where}")
    where = f" AND id IN ({chunk_ids_sql})" if chunk_ids_sql else ""
    return count(db, f"SELECT count(*) FROM chunks WHERE tsv IS NOT NULL{where}")


def texts_with_term(db: Database, term: str) -> list[str]:
    """The text of every chunk whose full-text terms include ``term``, in one statement."""
    if db.dialect == "sqlite":
        sql = ("SELECT c.text FROM chunks_fts f JOIN chunks c ON c.id = f.rowid "
               "WHERE chunks_fts MATCH ?")
        return [r[0] for r in db.conn.execute(sql, (f'"{term}"',))]
    sql = "SELECT text FROM chunks WHERE tsv @@ ?::tsquery"
    return [r[0] for r in db.conn.execute(sql, (quote(term),))]
