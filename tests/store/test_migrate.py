"""``zhiku migrate``: a real SQLite knowledge base (CMRC and SciFact passages, hashing vectors,
graph, assistant, chat, users, keys, an uploaded original) copied into a real PostgreSQL;
counts and checksums agree, a second run changes nothing, and search through the facade gives
the same hits on both backends. One knowledge base, so FTS5's table-wide BM25 statistics and
PostgreSQL's per-knowledge-base ones describe the same chunks."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hashing import CHEAP
from shared_data import Passage
from zhiku.accounts.store import AccountStore
from zhiku.cli.main import create_app
from zhiku.core.errors import Conflict
from zhiku.core.settings import Settings
from zhiku.ingest import originals
from zhiku.ingest.pipeline import SourceItem
from zhiku.retrieval.types import Hit
from zhiku.service import Zhiku
from zhiku.store.db import open_database
from zhiku.store.postgres import fts
from zhiku.store.postgres.vectors import index_name
from zhiku.store.transfer.rows import fulltext, lexeme_set
from zhiku.store.transfer.run import MigrateOptions, MigrationReport, migrate
from zhiku.text.tokenize import analyze

PASSWORD = "correct horse battery"
ORIGINAL = bytes(range(256)) * 3  # every byte value, NUL included


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
    make_settings: Callable[..., Settings],
    cmrc_passages: list[Passage],
    scifact_first: Callable[[int], list[Passage]],
) -> dict[str, Any]:
    """One SQLite database (built once per module) and what the tests need to know about it."""
    home = tmp_path_factory.mktemp("migrate-source")
    db_file = home / "zhiku.db"
    settings = make_settings(home, database_url=f"sqlite:///{db_file}")
    cmrc, sci = cmrc_passages[:40], scifact_first(40)
    with Zhiku(settings) as zk:
        zk.create_kb("kb", embedder="hashing", graph=True)
        items = [SourceItem(f"cmrc/{p.id}.txt", data=p.text.encode()) for p in cmrc]
        items += [SourceItem(f"sci/{p.id}.md", data=f"# {p.title}\n\n{p.text}\n".encode())
                  for p in sci]
        items.append(SourceItem("tmp/gone.txt", data="短暂存在的文件，随后被删除。".encode()))
        zk.ingest_items("kb", items)
        gone = zk.document("kb", "tmp/gone.txt")
        zk.delete_document("kb", gone.id)  # its ids must never be handed out again
        first = zk.chunks("kb", f"sci/{sci[0].id}.md")[0]
        zk.store.set_chunk_enabled(first.id, False)
        zk.add_provider("vault", base_url="http://127.0.0.1:9/v1", models=["m"],
                        api_key="sk-secret-value")
        zk.create_assistant("Plain", knowledge_bases=["kb"])
        zk.publish_assistant("plain", note="v1")
        turn = zk.chat("plain", cmrc[0].question)
    db = open_database(settings)
    auth = AccountStore(db, CHEAP)
    user = auth.create_user("Ada@Example.com", PASSWORD, "Ada")
    auth.set_role(user, 1, "owner")
    session = auth.login("ada@example.com", PASSWORD, None, 24)
    _, api_key = auth.create_key(1, name="ci", access="read", kbs=["kb"], assistants=None,
                                 created_by=user)
    with db.write() as conn:
        sha = originals.put(conn, ORIGINAL, "application/octet-stream")
    db.close()
    queries = [p.question for p in cmrc[:12]] + [p.text.split(". ")[0] for p in sci[1:13]]
    return {"path": db_file, "home": home, "queries": queries, "gone": gone.id,
            "session": session, "api_key": api_key, "sha": sha,
            "conversation": turn.conversation_id, "disabled": first.id}


def _copy(path: Path, dest: Path) -> Path:
    """A private copy of the source database (for tests that change it)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    src, out = sqlite3.connect(path), sqlite3.connect(dest)
    src.backup(out)
    src.close()
    out.close()
    return dest


@pytest.fixture
def pg_zhiku(pg_url: str, tmp_path: Path, make_settings: Callable[..., Settings]
             ) -> Iterator[Callable[[], Zhiku]]:
    """``pg_zhiku()``: the facade on the test's PostgreSQL database (closed afterwards)."""
    opened: list[Zhiku] = []

    def make() -> Zhiku:
        zk = Zhiku(make_settings(tmp_path / "pg-home", database_url=pg_url))
        opened.append(zk)
        return zk

    yield make
    for zk in opened:
        zk.close()


def _assert_verified(report: MigrationReport) -> None:
    assert report.ok and report.verified
    for t in report.tables:
        assert t.source_rows == t.target_rows, t
        assert t.source_sha256 is not None and t.source_sha256 == t.target_sha256, t


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-3)


def _assert_same_hits(mine: list[Hit], theirs: list[Hit]) -> None:
    """The same chunks in the same order with the same sources and (nearly) the same scores and
    relevance. Hits tied on score may come in either order, and a tie at the cut-off may let a
    different one in."""
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert a.score == pytest.approx(b.score, rel=1e-5, abs=1e-6)
        assert a.relevance == pytest.approx(b.relevance, abs=1e-4)
    start = 0
    for end in range(1, len(mine) + 1):
        if end == len(mine) or not _close(mine[end - 1].score, mine[end].score):
            if end < len(mine):  # the last group may be cut off by top_k
                assert {h.chunk_id for h in mine[start:end]} == {
                    h.chunk_id for h in theirs[start:end]}
            start = end
    by_id = {h.chunk_id: h for h in theirs}
    for a in mine:
        b = by_id.get(a.chunk_id)
        if b is not None:
            assert (a.source, a.document_id, a.text) == (b.source, b.document_id, b.text)


def _compare_searches(lite: Zhiku, pg: Zhiku, queries: list[str], disabled: int) -> int:
    """Compare every query in every mode; returns how many hybrid searches were compared hit by
    hit. Keyword and vector candidates (top 50, what fusion sees) must agree up to the order of
    tied scores; where that order differs, fused ranks move, so the hybrid hits are then only
    compared as sets."""
    exact = 0
    for query in queries:
        same_order = True
        for mode in ("keyword", "vector"):
            mine = lite.search("kb", query, mode=mode, top_k=50)
            theirs = pg.search("kb", query, mode=mode, top_k=50)
            assert disabled not in {h.chunk_id for h in theirs}
            _assert_same_hits(mine, theirs)
            same_order = same_order and [h.chunk_id for h in mine] == [h.chunk_id for h in theirs]
        mine = lite.search("kb", query, mode="hybrid", top_k=10)
        theirs = pg.search("kb", query, mode="hybrid", top_k=10)
        assert mine, query
        if same_order:
            _assert_same_hits(mine, theirs)
            exact += 1
        else:
            overlap = {h.chunk_id for h in mine} & {h.chunk_id for h in theirs}
            assert len(overlap) >= len(mine) - 2, query
    return exact


def test_round_trip_copies_everything_verifiably_and_searches_alike(
    built: dict[str, Any], pg_url: str, pg_zhiku: Callable[[], Zhiku],
    make_settings: Callable[..., Settings],
) -> None:
    report = migrate(built["path"], pg_url)
    _assert_verified(report)
    rows = {t.name: t.target_rows for t in report.tables}
    for table in ("documents", "chunks", "embeddings", "providers", "assistants",
                  "assistant_versions", "conversations", "messages", "model_calls",
                  "graph_nodes", "graph_edges", "graph_mentions", "graph_edge_evidence",
                  "users", "memberships", "sessions", "api_keys", "originals"):
        assert rows[table] > 0, table
    assert rows["embeddings"] == rows["chunks"]
    assert report.hnsw_indexes == [("hashing-256", 256)]

    pg = pg_zhiku()
    db = pg.store.db  # type: ignore[attr-defined]
    assert db.conn.execute("SELECT to_regclass(?) IS NOT NULL",
                           (index_name("hashing-256", 256),)).fetchone()[0]
    auth = AccountStore(db, CHEAP)  # people keep their sessions, keys and passwords
    assert auth.authenticate(built["session"]).user_id is not None
    assert auth.authenticate(built["api_key"]).key_id is not None
    assert originals.get(db, built["sha"]).data == ORIGINAL
    assert [m.role for m in pg.conversation(built["conversation"])] == ["user", "assistant"]
    assert pg.get_assistant("plain").published_version == 1
    postings = db.conn.execute(  # the copy's keyword postings are merged, none missing
        "SELECT count(*) FILTER (WHERE fresh), sum(n) FROM chunk_postings").fetchone()
    indexed = db.conn.execute("SELECT sum(length(tsv)) FROM chunks").fetchone()[0]
    assert postings[0] == 0 and postings[1] == indexed > 0

    with Zhiku(make_settings(built["home"], database_url=f"sqlite:///{built['path']}")) as lite:
        assert lite.stats() == pg.stats()
        exact = _compare_searches(lite, pg, built["queries"], built["disabled"])
        assert exact >= len(built["queries"]) // 2, exact

    again = migrate(built["path"], pg_url)  # a second run: nothing to do, nothing duplicated
    _assert_verified(again)
    assert [t.target_rows for t in again.tables] == [t.target_rows for t in report.tables]
    assert sum(t.inserted + t.updated for t in again.tables) == 0


def test_new_rows_never_reuse_source_ids(
    built: dict[str, Any], pg_url: str, pg_zhiku: Callable[[], Zhiku]
) -> None:
    migrate(built["path"], pg_url, MigrateOptions(verify=False))
    pg = pg_zhiku()
    pg.ingest_items("kb", [SourceItem("new.txt", data="迁移之后的新文件。".encode())])
    doc = pg.document("kb", "new.txt")
    assert doc.id > built["gone"]  # past the deleted document's id, not just the largest left
    assert pg.chunks("kb", "new.txt")[0].id > max(
        c.id for d in pg.documents("kb") if d.id != doc.id for c in pg.chunks("kb", d.id))


def test_a_changed_source_needs_prune_then_matches_again(
    built: dict[str, Any], pg_url: str, tmp_path: Path, pg_zhiku: Callable[[], Zhiku],
    make_settings: Callable[..., Settings], scifact_first: Callable[[int], list[Passage]],
) -> None:
    path = _copy(built["path"], tmp_path / "changed" / "zhiku.db")
    _assert_verified(migrate(path, pg_url))
    settings = make_settings(path.parent, database_url=f"sqlite:///{path}")
    with Zhiku(settings) as zk:
        docs = zk.documents("kb")
        zk.delete_document("kb", docs[0].id)
        # a new version of a document: new document and chunk ids for the same source
        rewritten = SourceItem(docs[1].source, data="改写后的内容，完全不同。".encode())
        zk.ingest_items("kb", [rewritten])
        zk.create_kb("sections", embedder="hashing", parent_child=True, chunk_tokens=64)
        zk.ingest_items("sections", [
            SourceItem(f"sec/{n}.md", data=f"# 标题 {n}\n\n{p.text}\n".encode())
            for n, p in enumerate(scifact_first(45)[40:])
        ])
    with pytest.raises(Conflict, match="--prune"):
        migrate(path, pg_url)
    before = migrate(path, pg_url, MigrateOptions(dry_run=True))
    assert before.dry_run and not before.verified
    extra = {t.name: t.extra for t in before.tables if t.extra}
    assert extra["documents"] == 2 and extra["chunks"] > 0
    report = migrate(path, pg_url, MigrateOptions(prune=True))
    _assert_verified(report)
    pruned = {t.name: t.pruned for t in report.tables if t.pruned}
    assert pruned["documents"] == 2
    pg = pg_zhiku()
    assert "改写后" in pg.chunks("kb", docs[1].source)[0].text
    unsearchable = pg.store.db.conn.execute(  # type: ignore[attr-defined]
        "SELECT count(*), count(tsv) FROM chunks WHERE searchable = 0").fetchone()
    assert unsearchable[0] > 0 and unsearchable[1] == 0  # parent sections carry no terms


def test_dry_run_writes_nothing(built: dict[str, Any], pg_url: str) -> None:
    report = migrate(built["path"], pg_url, MigrateOptions(dry_run=True))
    assert report.dry_run and report.hnsw_indexes == []
    by_name = {t.name: t for t in report.tables}
    assert by_name["chunks"].new == by_name["chunks"].source_rows > 0
    assert by_name["chunks"].target_rows == 0
    assert by_name["workspaces"].new == 0 and by_name["workspaces"].target_rows == 1


def test_unknown_source_tables_stop_the_migration(
    built: dict[str, Any], pg_url: str, tmp_path: Path
) -> None:
    path = _copy(built["path"], tmp_path / "odd" / "zhiku.db")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE plugin_notes (id INTEGER PRIMARY KEY, note TEXT)")
    with pytest.raises(Conflict, match="plugin_notes"):
        migrate(path, pg_url)


def test_cli_migrate_prints_counts_and_checksums(built: dict[str, Any], pg_url: str) -> None:
    runner = CliRunner()
    args = ["migrate", "--from", f"sqlite:///{built['path']}", "--to", pg_url]
    result = runner.invoke(create_app(), [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and data["verified"]
    chunks = next(t for t in data["tables"] if t["name"] == "chunks")
    assert chunks["source_sha256"] == chunks["target_sha256"]
    result = runner.invoke(create_app(), args)
    assert result.exit_code == 0, result.output
    assert "chunks" in result.stdout and "ok" in result.stdout
    missing = runner.invoke(create_app(), ["migrate", "--from", "sqlite:///nowhere/x.db",
                                           "--to", pg_url])
    assert missing.exit_code == 2 and "no SQLite database" in missing.output


def test_fast_fulltext_is_the_stores_tsvector(cmrc_passages: list[Passage]) -> None:
    """The migration builds tsvector literals its own (faster) way: byte for byte the store's,
    for real analyzer output and for raw terms no analyzer would make."""
    analyzed = [" ".join(analyze(p.text)) for p in cmrc_passages]
    raw = [
        "Mixed CASE ünïcödé ΣΊΣΥΦΟΣ it's a_b-c\\d 'quoted' 2024年 o'neil",
        " ".join(["重复"] * 17_000),  # positions past the 16,383 PostgreSQL keeps
        "x" * 600 + " " + "长" * 700,  # pieces near and past the lexeme size limit
        "",
    ]
    for joined in analyzed + raw:
        assert fulltext(joined) == fts.tsvector_literal(joined.split())
        words, count = lexeme_set(joined)
        expected = fts.lexemes(joined.split())
        assert count == len(expected)
        assert (words or "").split() == sorted(set(expected), key=str.encode)
    assert fulltext(None) == (None, 0) and lexeme_set(None) == (None, 0)


def test_an_interrupted_copy_resumes(
    built: dict[str, Any], pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zhiku.store.transfer.target import PgTarget

    real = PgTarget.insert
    calls = {"chunks": 0}

    def failing(self: PgTarget, plan: Any, rows: Any) -> int:
        if plan.name == "chunks":
            calls["chunks"] += 1
            if calls["chunks"] == 3:
                raise RuntimeError("connection lost")
        return real(self, plan, rows)

    monkeypatch.setattr(PgTarget, "insert", failing)
    with pytest.raises(RuntimeError, match="connection lost"):
        migrate(built["path"], pg_url, MigrateOptions(batch_rows=50))
    monkeypatch.setattr(PgTarget, "insert", real)
    report = migrate(built["path"], pg_url, MigrateOptions(batch_rows=50))
    _assert_verified(report)
    chunks = next(t for t in report.tables if t.name == "chunks")
    assert chunks.inserted == chunks.source_rows - 100  # two batches had committed


def test_cli_exits_1_on_a_mismatch(monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    from zhiku.store.transfer import run
    from zhiku.store.transfer.run import TableReport

    def fake(*_: Any, **__: Any) -> MigrationReport:
        bad = TableReport("chunks", source_rows=3, target_rows=3, source_sha256="a" * 64,
                          target_sha256="b" * 64)
        return MigrationReport(tables=[TableReport("documents", 1, 1), bad], verified=True)

    monkeypatch.setattr(run, "migrate", fake)
    result = CliRunner().invoke(create_app(), ["migrate", "--from", "sqlite:///x.db",
                                               "--to", pg_url])
    assert result.exit_code == 1
    assert "mismatch" in result.stdout and "chunks" in result.stdout
