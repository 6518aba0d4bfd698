"""The store conformance suite (``store_conformance.py``) on a real SQLite file, plus the
checks that only make sense for the embedded SQLite file (WAL, foreign keys, migrations)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from repo_conformance import RepositoryConformance
from store_conformance import MODEL, StoreConformance, chunk, put, search, vectors

from zhiku.store.db import open_sqlite
from zhiku.store.sqlite import SqliteStore
from zhiku.store.sqlite.migrations import MIGRATIONS, migrate
from zhiku.store.sqlite.store import _varint

__all__ = ["MODEL", "chunk", "put", "search", "vectors"]  # other tests import these from here


class TestSqliteStore(StoreConformance, RepositoryConformance):
    """The conformance suite on a real SQLite file, plus SQLite-only guarantees."""

    @pytest.fixture
    def db_path(self, tmp_path: Path) -> Path:
        return tmp_path / "store" / "zhiku.db"

    @pytest.fixture
    def store(self, db_path: Path) -> Iterator[SqliteStore]:
        db = open_sqlite(db_path)
        s = SqliteStore(db)
        yield s
        s.close()
        db.close()

    def test_wal_and_foreign_keys_are_on(self, store: SqliteStore, db_path: Path) -> None:
        conn = store.db.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        # every thread gets its own connection with the same settings
        seen: list[tuple[str, int]] = []

        def probe() -> None:
            c = store.db.conn
            seen.append((c.execute("PRAGMA journal_mode").fetchone()[0],
                         c.execute("PRAGMA foreign_keys").fetchone()[0]))

        t = threading.Thread(target=probe)
        t.start()
        t.join()
        assert seen == [("wal", 1)]
        with sqlite3.connect(db_path) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent

    def test_chunk_ids_follow_the_largest_id_ever_given(self, store: SqliteStore) -> None:
        ws = store.workspace_id("default", create=True)
        kb_id = store.create_kb(ws, "ids", MODEL, {}).id
        _, first = put(store, kb_id, "/a.txt", ["one", "two"])
        doc, second = put(store, kb_id, "/b.txt", ["three", "four"])
        assert second == [first[-1] + 1, first[-1] + 2]
        store.delete_document(doc.id)  # the largest ids are gone, never to be given again
        _, third = put(store, kb_id, "/c.txt", ["five"])
        assert third == [second[-1] + 1]
        with store.db.write() as conn:  # a row written with its own id moves the count on too
            conn.execute(
                "INSERT INTO chunks (id, document_id, kb_id, ord, text, token_count) "
                "SELECT 1000, document_id, kb_id, 9, 'x', 1 FROM chunks WHERE id = ?", third)
        assert put(store, kb_id, "/d.txt", ["six"])[1] == [1001]

    def test_foreign_keys_are_enforced(self, store: SqliteStore) -> None:
        with pytest.raises(sqlite3.IntegrityError), store.db.write() as conn:
            conn.execute(
                "INSERT INTO chunks (document_id, kb_id, ord, text, token_count) "
                "VALUES (999, 999, 0, 'orphan', 1)"
            )
        assert store.db.conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == 0

    def test_migrations_are_numbered_and_idempotent_on_reopen(
        self, store: SqliteStore, db_path: Path, kb_id: int
    ) -> None:
        version = store.db.conn.execute("PRAGMA user_version").fetchone()[0]
        assert version == len(MIGRATIONS) >= 1
        doc, ids = put(store, kb_id, "/a.txt", ["survives reopening"])
        store.close()
        store.db.close()
        for _ in range(2):
            again = SqliteStore(open_sqlite(db_path))
            assert again.db.conn.execute("PRAGMA user_version").fetchone()[0] == version
            assert migrate(again.db.conn) == version  # nothing left to apply
            assert again.get_document(doc.id) == doc
            assert search(again, [kb_id], "reopening") == ids
            assert again.db.conn.execute(
                "SELECT count(*) FROM workspaces WHERE name = 'default'").fetchone()[0] == 1
            again.close()
            again.db.close()

    def test_a_new_migration_applies_once(self, store: SqliteStore, db_path: Path) -> None:
        extra = [*MIGRATIONS, "CREATE TABLE extra_thing (id INTEGER PRIMARY KEY);"]
        conn = store.db.conn
        assert migrate(conn, extra) == len(extra)
        assert migrate(conn, extra) == len(extra)
        broken = [*extra, "CREATE TABLE half (id INTEGER); SELECT no_such_function();"]
        with pytest.raises(sqlite3.OperationalError):
            migrate(conn, broken)
        # a failed migration rolls back whole and leaves the version where it was
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(extra)
        assert conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'half'").fetchone()[0] == 0

    def test_delete_leaves_no_orphan_rows(self, store: SqliteStore, kb_id: int) -> None:
        doc, ids = put(store, kb_id, "/a.txt", ["报销 one", "报销 two"])
        store.add_vectors(kb_id, MODEL, ids, vectors(2))
        store.delete_document(doc.id)
        conn = store.db.conn
        assert conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == 0
        _, ids = put(store, kb_id, "/b.txt", ["报销 three"])
        store.add_vectors(kb_id, MODEL, ids, vectors(1))
        store.delete_kb(kb_id)
        for table in ("documents", "chunks", "embeddings", "chunks_fts"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table

    def test_a_crash_mid_write_leaves_nothing(self, store: SqliteStore, kb_id: int) -> None:
        class Boom(Exception):
            pass

        with pytest.raises(Boom), store.db.write() as conn:
            conn.execute(
                "INSERT INTO documents (kb_id, source, content_hash, format, status) "
                "VALUES (?, '/x', 'h', 'txt', 'parsed')", (kb_id,))
            raise Boom
        assert store.list_documents(kb_id) == []


def test_fts5_row_count_varint() -> None:
    """``term_stats``' N is read from FTS5's averages record: SQLite varints, one to nine bytes."""
    assert _varint(bytes([0x04, 0x0C])) == 4
    assert _varint(bytes([0x82, 0x2C])) == 300
    assert _varint(bytes([0x81, 0x80, 0x80, 0x00])) == 1 << 21
    assert _varint(bytes([0xFF] * 8 + [0x01])) == ((1 << 56) - 1) * 256 + 1  # 9th byte: 8 bits
