"""Both backends' migrated schemas agree table by table.

A fresh SQLite file and a fresh PostgreSQL database, each migrated to the latest version, have
the same tables with the same columns, and each column has the same kind of type, nullability
and default presence (column order may differ: PostgreSQL appends added columns). Whatever
exists on one backend only is listed here with its reason, so a migration that gives one
backend a table, column or type the other lacks fails here until it is mirrored or listed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

import pgtest
from zhiku.store.sqlite.migrations import MIGRATIONS
from zhiku.store.sqlite.migrations import migrate as sqlite_migrate

SQLITE_ONLY_TABLES: dict[str, str] = {
    "chunks_fts": "FTS5 index of the chunks' terms (PostgreSQL: chunks.tsv)",
    "chunks_fts_vocab": "fts5vocab over chunks_fts: document frequencies (PostgreSQL: term_df)",
    "chunks_fts_config": "FTS5 shadow table",
    "chunks_fts_content": "FTS5 shadow table",
    "chunks_fts_data": "FTS5 shadow table",
    "chunks_fts_docsize": "FTS5 shadow table",
    "chunks_fts_idx": "FTS5 shadow table",
    "keyword_generation": "change counter of SQLite's in-memory keyword index",
    "sqlite_sequence": "SQLite's AUTOINCREMENT counters (PostgreSQL: identity sequences)",
}
POSTGRES_ONLY_TABLES: dict[str, str] = {
    "chunk_postings": "packed keyword postings per lexeme, kept by triggers (SQLite: its "
    "in-memory keyword index)",
    "chunk_stats": "BM25's chunk and term counts per knowledge base, kept by triggers (FTS5 "
    "keeps its own)",
    "term_df": "document frequencies per lexeme, kept by triggers (SQLite: chunks_fts_vocab)",
    "zhiku_schema": "the migration version (SQLite: PRAGMA user_version)",
}
POSTGRES_ONLY_COLUMNS: dict[tuple[str, str], str] = {
    ("chunks", "tsv"): "the chunk's terms with positions (SQLite: chunks_fts)",
    ("chunks", "term_count"): "the chunk's length in terms (SQLite: FTS5's docsize)",
}
TYPE_DIFFERENCES: dict[tuple[str, str], str] = {
    ("documents", "metadata"): "JSON text on SQLite; JSONB with a GIN index for filters",
    ("embeddings", "vector"): "float32 bytes on SQLite; pgvector's vector",
}

_SQLITE_TYPES = {"INTEGER": "integer", "REAL": "real", "TEXT": "text", "BLOB": "bytes"}
_POSTGRES_TYPES = {
    "smallint": "integer",
    "integer": "integer",
    "bigint": "integer",
    "double precision": "real",
    "text": "text",
    "bytea": "bytes",
    "jsonb": "json",
    "tsvector": "tsvector",
    "vector": "vector",
}


@dataclass(frozen=True)
class Column:
    """What the parity check compares of a column."""

    type: str  # a type family: integer, real, text, bytes, json, vector, tsvector
    nullable: bool
    has_default: bool


Schema = dict[str, dict[str, Column]]


def sqlite_schema(path: Path) -> Schema:
    """Every table of a SQLite file with its columns."""
    conn = sqlite3.connect(path)
    try:
        tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        schema: Schema = {}
        for name, sql in tables.fetchall():
            rows = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
            without_rowid = "WITHOUT ROWID" in (sql or "").upper()
            pk = [r for r in rows if r[5]]
            schema[name] = {}
            for _cid, col, decl, notnull, default, in_pk in rows:
                # Primary-key columns of WITHOUT ROWID tables and the rowid alias are never NULL.
                rowid_alias = len(pk) == 1 and in_pk and decl.upper() == "INTEGER"
                never_null = bool(notnull) or (bool(in_pk) and (without_rowid or rowid_alias))
                family = _SQLITE_TYPES.get(decl.upper(), f"? {decl}")
                schema[name][col] = Column(family, not never_null, default is not None)
        return schema
    finally:
        conn.close()


def postgres_schema(url: str) -> Schema:
    """Every table of a PostgreSQL database's schema with its columns."""
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
        schema: Schema = {name: {} for (name,) in tables}
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = current_schema()"
        ).fetchall()
    for table, col, data_type, udt, nullable, default in columns:
        if table in schema:
            key = udt if data_type == "USER-DEFINED" else data_type
            family = _POSTGRES_TYPES.get(key, f"? {key}")
            schema[table][col] = Column(family, nullable == "YES", default is not None)
    return schema


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> tuple[Schema, Schema]:
    """The latest schema on each backend, from a fresh database migrated from scratch."""
    path = tmp_path_factory.mktemp("parity") / "zhiku.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert sqlite_migrate(conn) == len(MIGRATIONS)
    finally:
        conn.close()
    url = pgtest.fresh_database()
    try:
        return sqlite_schema(path), postgres_schema(url)
    finally:
        pgtest.drop_database(url)


def test_tables_on_one_backend_only_are_the_listed_ones(schemas: tuple[Schema, Schema]) -> None:
    lite, pg = schemas
    assert sorted(set(lite) - set(pg)) == sorted(SQLITE_ONLY_TABLES)
    assert sorted(set(pg) - set(lite)) == sorted(POSTGRES_ONLY_TABLES)


def test_shared_tables_have_the_same_columns(schemas: tuple[Schema, Schema]) -> None:
    lite, pg = schemas
    shared = sorted(set(lite) & set(pg))
    assert len(shared) >= 30
    for table in shared:
        pg_only = {c for (t, c) in POSTGRES_ONLY_COLUMNS if t == table}
        assert sorted(lite[table]) == sorted(set(pg[table]) - pg_only), table
        assert pg_only <= set(pg[table]), table


@pytest.mark.parametrize("what", ["type", "nullable", "has_default"])
def test_shared_columns_agree(schemas: tuple[Schema, Schema], what: str) -> None:
    lite, pg = schemas
    differ = sorted(
        (table, col, getattr(lite[table][col], what), getattr(pg[table][col], what))
        for table in set(lite) & set(pg)
        for col in set(lite[table]) & set(pg[table])
        if getattr(lite[table][col], what) != getattr(pg[table][col], what)
    )
    allowed = TYPE_DIFFERENCES if what == "type" else {}
    assert [d for d in differ if (d[0], d[1]) not in allowed] == []
    assert sorted((d[0], d[1]) for d in differ) == sorted(allowed)  # none listed needlessly


def test_no_column_type_is_unknown(schemas: tuple[Schema, Schema]) -> None:
    lite, pg = schemas
    shared = set(lite) & set(pg)
    odd = [
        (side, table, col, c.type)
        for side, schema in (("sqlite", lite), ("postgres", pg))
        for table in shared
        for col, c in schema[table].items()
        if c.type.startswith("?")
    ]
    assert odd == []
