"""The SQL connector against a SQLite file and the embedded PostgreSQL server."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from connector_checks import cited, contents, context, diff, follows_the_source, listing, zhiku

import pgtest
from zhiku.connectors.sql import SPEC, SqlConnector, SqlOptions
from zhiku.core.errors import (
    InvalidInput,
    MissingDependency,
    PayloadTooLarge,
    SourceAuthFailed,
    SourceError,
    SourceUnreachable,
)
from zhiku.ingest.fetch import BlockedAddress

pytest.importorskip("sqlalchemy")
Execute = Callable[[str, tuple[Any, ...]], None]


@pytest.fixture(params=pgtest.backend_params())
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Execute]]:
    """A database's SQLAlchemy URL and a way to run SQL on it (``?`` placeholders)."""
    if request.param == "sqlite":
        path = tmp_path / "source.db"
        sqlite3.connect(path).close()

        def run_sqlite(sql: str, args: tuple[Any, ...] = ()) -> None:
            with closing(sqlite3.connect(path)) as conn, conn:
                conn.execute(sql, args)

        yield f"sqlite:///{path}", run_sqlite
        return
    import psycopg

    url = request.getfixturevalue("pg_url")

    def run_pg(sql: str, args: tuple[Any, ...] = ()) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s"), args)  # type: ignore[arg-type]

    yield url, run_pg


@pytest.fixture
def articles(db: tuple[str, Execute]) -> tuple[str, Execute]:
    url, run = db
    run("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, body TEXT, author TEXT)", ())
    for row in [(1, "Leave", "Twenty days a year.", "hr"),
                (2, "Travel", "Book through the portal.", "ops"),
                (3, "Quotes", "It's '); DROP TABLE articles; -- fine", "it")]:
        run("INSERT INTO articles VALUES (?, ?, ?, ?)", row)
    return url, run


def _open(url: str, *, ctx: Any = None, **options: Any) -> SqlConnector:
    conn = SPEC.open(SPEC.config_model.model_validate(options), {"url": url}, ctx or context())
    assert isinstance(conn, SqlConnector)
    return conn


def _list(conn: SqlConnector) -> dict[str, str]:
    with closing(conn):
        return listing(conn)


def test_rows_as_documents_follow_changes(articles: tuple[str, Execute]):
    url, run = articles
    options = {"table": "articles", "id_column": "id", "title_column": "title",
               "text_columns": ["body"], "metadata_columns": ["author"],
               "url_template": "https://kb.example.com/a/{id}?by={author}"}
    conn = _open(url, **options)
    assert contents(conn) == {
        "1": b"# Leave\n\nTwenty days a year.\n",
        "2": b"# Travel\n\nBook through the portal.\n",
        "3": b"# Quotes\n\nIt's '); DROP TABLE articles; -- fine\n",
    }
    first = next(iter(conn.items()))
    assert first.name == "articles/1.md"
    assert first.metadata == {"author": "hr", "row_id": "1", "table": "articles",
                              "title": "Leave", "url": "https://kb.example.com/a/1?by=hr"}
    before = listing(conn)
    run("UPDATE articles SET body = ? WHERE id = ?", ("Twenty-five days a year.", 1))
    run("INSERT INTO articles VALUES (?, ?, ?, ?)", (4, "New", "A new page.", "hr"))
    run("DELETE FROM articles WHERE id = ?", (2,))
    after = listing(conn)
    assert diff(before, after) == {"added": {"4"}, "removed": {"2"}, "changed": {"1"},
                                   "unchanged": {"3"}}
    assert contents(conn)["1"] == b"# Leave\n\nTwenty-five days a year.\n"
    conn.close()
    # A different mapping renders differently, so every version changes.
    text = _open(url, **{**options, "format": "txt"})
    assert not set(listing(text).items()) & set(after.items())
    assert contents(text)["4"] == b"New\n\nA new page.\n"
    text.close()


def test_query_rows_as_question_and_answer(articles: tuple[str, Execute]):
    url, _ = articles
    conn = _open(url, query="SELECT id AS qid, title, body FROM articles WHERE id < 3",
                 id_column="qid", mode="faq", question_column="title",
                 answer_column="body", format="txt")
    assert contents(conn) == {"1": b"Q: Leave\n\nA: Twenty days a year.\n",
                              "2": b"Q: Travel\n\nA: Book through the portal.\n"}
    assert [item.name for item in conn.items()] == ["1.txt", "2.txt"]
    conn.close()


def test_a_row_over_the_limit_is_listed_and_refused(articles: tuple[str, Execute]):
    url, run = articles
    run("INSERT INTO articles VALUES (?, ?, ?, ?)", (9, "Big", "x" * 1000, "hr"))
    conn = _open(url, table="articles", id_column="id", text_columns=["body"])
    items = {item.id: item for item in conn.items()}
    assert items["9"].size == 1001
    with pytest.raises(PayloadTooLarge, match="9"):
        conn.fetch(items["9"])
    assert conn.fetch(items["1"]) == b"Twenty days a year.\n"
    conn.close()


def test_failing_queries_and_mappings_are_clear_errors(articles: tuple[str, Execute]):
    url, run = articles
    with pytest.raises(SourceError, match="the query failed"):
        _list(_open(url, query="SELEC nothing", id_column="id", text_columns=["body"]))
    with pytest.raises(SourceError, match=r"no column 'text'.*id, title, body, author"):
        _list(_open(url, table="articles", id_column="id", text_columns=["text"]))
    with pytest.raises(SourceError, match="no table 'nope'"):
        _list(_open(url, table="nope", id_column="id", text_columns=["body"]))
    run("INSERT INTO articles VALUES (?, ?, ?, ?)", (5, "Leave", "again", "hr"))
    with pytest.raises(SourceError, match="appears twice"):
        _list(_open(url, query="SELECT title, body FROM articles", id_column="title",
                    text_columns=["body"]))


@pytest.mark.backend("sqlite")
def test_a_table_name_is_quoted_not_spliced(tmp_path: Path):
    path = tmp_path / "odd.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute('CREATE TABLE "faq items" (id TEXT, q TEXT, a TEXT)')
        conn.execute('INSERT INTO "faq items" VALUES (?, ?, ?)', ("k/1", "Why?", "Because."))
    source = _open(f"sqlite:///{path}", table="faq items", id_column="id", mode="faq",
                   question_column="q", answer_column="a")
    assert contents(source) == {"k/1": b"Q: Why?\n\nA: Because.\n"}
    assert next(iter(source.items())).name == "faq items/k_1.md"
    source.close()


@pytest.mark.backend("sqlite")
def test_a_missing_sqlite_file_is_not_created(tmp_path: Path):
    with pytest.raises(SourceError, match="no such database file"):
        _open(f"sqlite:///{tmp_path / 'missing.db'}", table="t", id_column="id",
              text_columns=["body"])
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.backend("postgres")
def test_wrong_credentials_are_a_clear_error(pg_url: str):
    # The embedded server trusts every password, so an unknown user is the refusal tested.
    wrong = "postgresql://nobody:secret@" + pg_url.split("@", 1)[1]
    with pytest.raises(SourceAuthFailed, match="nobody") as caught:
        _list(_open(wrong, query="SELECT 1 AS id", id_column="id", text_columns=["id"]))
    assert "secret" not in caught.value.message


@pytest.mark.backend("sqlite")
def test_a_closed_port_fails_fast_and_the_guard_checks_the_host():
    start = time.monotonic()
    with pytest.raises(SourceUnreachable, match=r"127\.0\.0\.1:9"):
        _list(_open("postgresql://u:pw@127.0.0.1:9/db", query="SELECT 1 AS id",
                    id_column="id", text_columns=["id"]))
    assert time.monotonic() - start < 5
    with pytest.raises(BlockedAddress, match="internal address"):
        _open("postgresql://u:pw@127.0.0.1:9/db", ctx=context(allowed_hosts=()),
              query="SELECT 1 AS id", id_column="id", text_columns=["id"])


@pytest.mark.backend("sqlite")
def test_a_missing_driver_or_dialect_is_named():
    ctx = context(allowed_hosts=("127.0.0.1",))
    options = {"query": "SELECT 1 AS id", "id_column": "id", "text_columns": ["id"]}
    if find_spec("pymysql") is None:
        with pytest.raises(MissingDependency, match="'pymysql'"):
            _open("mysql+pymysql://u:pw@127.0.0.1/db", ctx=ctx, **options)
    with pytest.raises(InvalidInput, match="Can't load plugin"):
        _open("nosuchdb://127.0.0.1/x", ctx=ctx, **options)


@pytest.mark.backend("sqlite")
def test_options_say_what_is_missing():
    with pytest.raises(ValueError, match="either query or table"):
        SqlOptions.model_validate({"id_column": "id", "text_columns": ["b"]})
    with pytest.raises(ValueError, match="question_column and answer_column"):
        SqlOptions.model_validate({"table": "t", "id_column": "id", "mode": "faq"})
    with pytest.raises(ValueError, match="colour"):
        SqlOptions.model_validate({"table": "t", "id_column": "id", "text_columns": ["b"],
                                   "colour": "red"})


class _Table:
    """Table ``notes`` as a source a test changes; an item is a row's id."""

    def __init__(self, run: Execute) -> None:
        self.run = run
        run("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, body TEXT)", ())

    def put(self, item: str, text: str) -> None:
        title, body = text.split("\n\n", 1)
        self.run("DELETE FROM notes WHERE id = ?", (int(item),))
        self.run("INSERT INTO notes VALUES (?, ?, ?)", (int(item), title.lstrip("# "), body))

    def delete(self, item: str) -> None:
        self.run("DELETE FROM notes WHERE id = ?", (int(item),))

    def settle(self) -> None:
        pass


def test_a_synced_table_follows_its_rows(db: tuple[str, Execute], zhiku_home: Path):
    url, run = db
    with zhiku(zhiku_home) as zk:
        place = _Table(run)
        zk.sources.add("kb", "rows", "sql", {
            "table": "notes", "id_column": "id", "title_column": "title",
            "text_columns": ["body"], "url_template": "https://kb.example.com/n/{id}"},
            {"url": url})

        def link(item: str) -> str:
            return f"https://kb.example.com/n/{item}"

        follows_the_source(zk, place, "rows", ["1", "2", "3", "4"], link)
        doc = zk.document("kb", link("4"))
        assert doc.metadata["row_id"] == "4" and doc.metadata["table"] == "notes"
        assert doc.metadata["url"] == link("4") and doc.metadata["sync_source"] == "rows"
        assert cited(zk, "word3x") == link("4")
