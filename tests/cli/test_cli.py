"""The CLI contract: real ``zhiku`` subprocesses for search/ask (other tools parse their output)
and typer's CliRunner for the management commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from cli_support import last_json
from typer.testing import CliRunner

import pgtest
from zhiku.cli.main import create_app

ZHIKU = Path(sys.executable).with_name("zhiku")
KB = "handbook"
DOCS = {
    "handbook.md": """# Employee handbook

## Leave

New employees get fifteen days of paid annual leave in their first year.
Unused leave can be carried over until March.

## Remote work

Staff may work from home two days a week with their manager's approval.
""",
    "报销制度.md": """# 报销制度

## 差旅报销

员工出差报销需要提交发票原件、审批单和行程单。财务部在五个工作日内完成审核。

## 餐费

餐费补贴标准为每天一百元。
""",
    "it/faq.csv": "question,answer\nHow often is the wifi password rotated?,Every month.\n"
    "Who do I call for a broken laptop?,The IT help desk on extension 4400.\n",
}


ON_POSTGRES = pgtest.BACKEND == "postgres"


def clean_env(home: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    env.update(ZHIKU_HOME=str(home), COLUMNS="200", NO_COLOR="1", **extra)
    if database_url:
        env["ZHIKU_DATABASE_URL"] = database_url
    return env


def zhiku(*args: str, home: Path, cwd: Path | None = None, check: bool = True,
          database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(ZHIKU), *args], env=clean_env(home, database_url), cwd=cwd, capture_output=True,
        text=True, encoding="utf-8", timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def write_docs(root: Path) -> Path:
    for rel, text in DOCS.items():
        path = root / "docs" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "docs"


@dataclass
class Installed:
    home: Path
    root: Path
    docs: Path
    ingest_summary: dict[str, Any]
    database_url: str | None  # the module's PostgreSQL database; None on SQLite

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The real ``zhiku`` on this installation."""
        return zhiku(*args, home=self.home, database_url=self.database_url)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """A knowledge base built by the real console script, from a relative folder path."""
    root = tmp_path_factory.mktemp("cli")
    home = root / "home"
    docs = write_docs(root)
    url = pgtest.fresh_database() if ON_POSTGRES else None
    try:
        zhiku("kb", "create", KB, home=home, database_url=url)
        proc = zhiku("ingest", "--kb", KB, "--json", "docs", home=home, cwd=root,
                     database_url=url)
        yield Installed(home, root, docs, json.loads(proc.stdout.strip().splitlines()[-1]), url)
    finally:
        if url:
            pgtest.drop_database(url)


# -- real subprocesses: ingest, search, batch search, ask --------------------------------------
def test_ingest_json_summary_with_absolute_sources(installed: Installed) -> None:
    files = installed.ingest_summary["files"]
    expected = {str((installed.docs / rel).resolve()) for rel in DOCS}
    assert {f["source"] for f in files} == expected
    assert all(f["status"] == "added" and f["error"] is None and f["chunks"] > 0 for f in files)
    assert installed.ingest_summary["chunks_embedded"] == sum(f["chunks"] for f in files)
    if not ON_POSTGRES:
        assert (installed.home / "zhiku.db").is_file()  # ZHIKU_HOME decides where data lives


def test_search_json(installed: Installed) -> None:
    proc = installed.run("search", "--kb", KB, "--json", "--top-k", "2", "报销流程需要哪些材料")
    data = json.loads(proc.stdout)
    assert data["query"] == "报销流程需要哪些材料"
    assert len(data["hits"]) == 2
    top = data["hits"][0]
    assert top["source"] == str((installed.docs / "报销制度.md").resolve())
    assert "发票原件" in top["text"]
    assert top["heading_path"] == ["报销制度", "差旅报销"]
    assert isinstance(top["chunk_id"], int) and isinstance(top["document_id"], int)
    assert top["score"] >= data["hits"][1]["score"]
    assert set(top["scores"]) == {"keyword", "vector", "fused"}


def test_batch_search_output_format(installed: Installed, tmp_path: Path) -> None:
    queries = [
        {"id": "q1", "text": "How many days of annual leave do new employees get?"},
        {"id": 2, "text": "出差报销需要什么材料"},
        {"id": "q3", "text": "wifi password rotation"},
    ]
    qfile = tmp_path / "queries.jsonl"
    qfile.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in queries) + "\n\n",
                     encoding="utf-8")
    proc = installed.run("search", "--kb", KB, "--top-k", "3", "--json", "--queries", str(qfile))
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 3
    results = [json.loads(line) for line in lines]
    assert [r["id"] for r in results] == ["q1", 2, "q3"]  # ids come back as given, in order
    for r in results:
        assert set(r) == {"id", "hits"}
        assert 1 <= len(r["hits"]) <= 3
        for hit in r["hits"]:
            assert {"source", "document_id", "chunk_id", "score", "text"} <= set(hit)
            assert Path(hit["source"]).is_absolute() and Path(hit["source"]).exists()
            assert isinstance(hit["score"], float)
        scores = [h["score"] for h in r["hits"]]
        assert scores == sorted(scores, reverse=True)
    tops = [Path(r["hits"][0]["source"]).name for r in results]
    assert tops == ["handbook.md", "报销制度.md", "faq.csv"]
    assert "Every month." in results[2]["hits"][0]["text"]  # the FAQ answer comes back


def test_ask_json_cites_every_sentence(installed: Installed) -> None:
    proc = installed.run("ask", "--kb", KB, "--json",
                         "How many days of leave do new employees get?")
    data = json.loads(proc.stdout)
    assert data["refused"] is False
    assert "fifteen days" in data["answer"]
    citations = {c["n"]: c for c in data["citations"]}
    assert citations
    for c in data["citations"]:
        assert c["source"] == str((installed.docs / "handbook.md").resolve())
        assert isinstance(c["chunk_id"], int) and c["text"]
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])]
    assert markers and set(markers) <= set(citations)
    sentences = [s for s in re.split(r"(?<=\])\s*", data["answer"]) if s.strip()]
    assert all(re.search(r"\[\d+\]$", s.strip()) for s in sentences)


def test_ask_refuses_an_unrelated_question(installed: Installed) -> None:
    en = json.loads(installed.run("ask", "--kb", KB, "--json",
                                  "What is the boiling point of mercury?").stdout)
    assert en == {"answer": "The knowledge base does not say.", "refused": True,
                  "grounded": True, "ungrounded_reason": None, "ungrounded_action": None,
                  "citations": []}
    zh = json.loads(installed.run("ask", "--kb", KB, "--json", "明天上海的天气怎么样？").stdout)
    assert zh["refused"] is True and zh["citations"] == []
    assert zh["answer"] == "知识库中没有相关内容。"


def test_search_errors_exit_non_zero(
    installed: Installed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZHIKU_HOME", str(installed.home))
    if installed.database_url:
        monkeypatch.setenv("ZHIKU_DATABASE_URL", installed.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    app = create_app()
    missing = runner.invoke(app, ["search", "--kb", "nope", "--json", "leave"])
    assert missing.exit_code == 2
    assert "knowledge base 'nope' does not exist" in missing.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "leave"}\n{"text": "no id"}\n', encoding="utf-8")
    result = runner.invoke(app, ["search", "--kb", KB, "--json", "--queries", str(bad)])
    assert result.exit_code == 2 and "bad.jsonl:2" in result.output
    assert len(result.stdout.strip().splitlines()) == 1  # the good line before it was answered


# -- CliRunner: management commands -----------------------------------------------------------
def test_kb_create_list_delete(cli: Any) -> None:
    assert "created knowledge base hr" in cli("kb", "create", "hr", "--embedder", "hashing").output
    cli("kb", "create", "finance", "--embedder", "hashing", "--chunk-tokens", "64")
    dup = cli("kb", "create", "hr", "--embedder", "hashing", code=2)
    assert "already exists" in dup.output
    listed = last_json(cli("kb", "list", "--json"))
    assert [(k["name"], k["embedder"], k["documents"]) for k in listed] == [
        ("finance", "hashing", 0), ("hr", "hashing", 0)]
    assert listed[0]["settings"] == {"chunk_tokens": 64}
    assert "finance" in cli("kb", "list").output
    cli("kb", "delete", "hr", input="n\n", code=1)  # declined: nothing happens
    assert len(last_json(cli("kb", "list", "--json"))) == 2
    cli("kb", "delete", "hr", "--yes")
    assert [k["name"] for k in last_json(cli("kb", "list", "--json"))] == ["finance"]
    assert "does not exist" in cli("kb", "delete", "hr", "--yes", code=2).output


def test_kb_reanalyze_reports_the_chunks_it_re_indexes(cli: Any, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "手冊.txt").write_text("新員工入職滿一年後享有五天帶薪年假。", encoding="utf-8")
    (docs / "menu.txt").write_text("The canteen opens at noon.", encoding="utf-8")
    cli("kb", "create", "hr", "--embedder", "hashing")
    cli("kb", "create", "empty", "--embedder", "hashing")
    cli("ingest", "--kb", "hr", str(docs))
    assert "hr: 1 chunks re-indexed" in cli("kb", "reanalyze", "hr").output
    every = cli("kb", "reanalyze").output
    assert "empty: 0 chunks re-indexed" in every and "hr: 1 chunks re-indexed" in every
    assert "does not exist" in cli("kb", "reanalyze", "nope", code=2).output


def test_ingest_folder_file_and_glob(cli: Any, tmp_path: Path) -> None:
    docs = write_docs(tmp_path)
    cli("kb", "create", KB, "--embedder", "hashing")
    first = last_json(cli("ingest", "--kb", KB, "--json", str(docs / "handbook.md")))
    assert [f["status"] for f in first["files"]] == ["added"]
    by_glob = last_json(cli("ingest", "--kb", KB, "--json", str(docs / "*.md")))
    assert sorted((Path(f["source"]).name, f["status"]) for f in by_glob["files"]) == [
        ("handbook.md", "unchanged"), ("报销制度.md", "added")]
    folder = last_json(cli("ingest", "--kb", KB, "--json", "--meta", '{"tags": ["hr"]}',
                           str(docs)))
    assert sorted(f["status"] for f in folder["files"]) == ["added", "unchanged", "unchanged"]
    human = cli("ingest", "--kb", KB, str(docs))
    assert "unchanged" in human.output and "3" in human.output
    assert "no such file" in cli("ingest", "--kb", KB, str(docs / "missing.md"), code=2).output
    bad_meta = cli("ingest", "--kb", KB, "--meta", "{tags", str(docs), code=2)
    assert "--meta is not valid JSON" in bad_meta.output
    assert "JSON object" in cli("ingest", "--kb", KB, "--meta", "[1]", str(docs), code=2).output
    assert "does not exist" in cli("ingest", "--kb", "nope", str(docs), code=2).output


def test_docs_list_rm_and_stats(cli: Any, tmp_path: Path, zhiku_home: Path) -> None:
    docs = write_docs(tmp_path)
    cli("kb", "create", KB, "--embedder", "hashing")
    cli("ingest", "--kb", KB, str(docs))
    listed = last_json(cli("docs", "list", "--kb", KB, "--json"))
    assert sorted(d["source"] for d in listed) == sorted(
        str((docs / rel).resolve()) for rel in DOCS)
    assert all(d["status"] == "ready" and d["chunk_count"] > 0 for d in listed)
    by_source = {Path(d["source"]).name: d for d in listed}
    stats = last_json(cli("stats", "--json"))
    if not ON_POSTGRES:
        assert stats["database"] == str(zhiku_home / "zhiku.db")
    counts = stats["knowledge_bases"][KB]
    assert counts["documents"] == 3 and counts["chunks"] == counts["embedded"] > 0
    removed = cli("docs", "rm", "--kb", KB, str(docs / "handbook.md"),
                  str(by_source["faq.csv"]["id"]))
    assert "handbook.md" in removed.output and "faq.csv" in removed.output
    left = last_json(cli("docs", "list", "--kb", KB, "--json"))
    assert [Path(d["source"]).name for d in left] == ["报销制度.md"]
    after = last_json(cli("stats", "--json"))["knowledge_bases"][KB]
    assert after["documents"] == 1 and after["chunks"] == after["embedded"] < counts["chunks"]
    assert "does not exist" in cli("docs", "rm", "--kb", KB, "999", code=2).output
    search = last_json(cli("search", "--kb", KB, "--json", "annual leave days"))
    assert all(not h["source"].endswith("handbook.md") for h in search["hits"])


def test_docs_list_pages_searches_and_sorts(cli: Any, tmp_path: Path) -> None:
    docs = write_docs(tmp_path)
    cli("kb", "create", KB, "--embedder", "hashing")
    cli("ingest", "--kb", KB, str(docs))
    names = lambda *args: [Path(d["source"]).name  # noqa: E731
                           for d in last_json(cli("docs", "list", "--kb", KB, "--json", *args))]
    by_source = names("--sort", "name")
    assert names("--sort", "-name") == by_source[::-1]
    assert names("--sort", "name", "--limit", "1", "--offset", "1") == by_source[1:2]
    assert names("--q", "HANDBOOK") == ["handbook.md"]
    assert names("--q", "nothing-like-this") == []
    paged = cli("docs", "list", "--kb", KB, "--limit", "2")
    assert "1-2 of 3 documents" in paged.output
    assert "sort by one of" in cli("docs", "list", "--kb", KB, "--sort", "colour", code=2).output


def test_kb_create_with_a_language_says_how_chinese_is_found(cli: Any) -> None:
    made = cli("kb", "create", "zh-kb", "--embedder", "hashing", "--language", "zh")
    assert "embedder hashing" in made.output and "keywords only" in made.output
    listed = last_json(cli("kb", "list", "--json"))
    assert listed[0]["settings"] == {"language": "zh"}
    assert "zh, en or auto" in cli("kb", "create", "x", "--language", "fr", code=2).output


def test_stats_names_the_database_kind_and_never_its_password(
    cli: Any, zhiku_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("kb", "create", KB, "--embedder", "hashing")
    if not ON_POSTGRES:
        stats = last_json(cli("stats", "--json"))
        assert stats["backend"] == "sqlite" and stats["database"] == str(zhiku_home / "zhiku.db")
        assert f"database: sqlite {zhiku_home / 'zhiku.db'}" in cli("stats").output
        return
    url = urlsplit(os.environ["ZHIKU_DATABASE_URL"])
    if not url.password:  # the test server trusts local connections: any password will do
        url = url._replace(netloc=f"{url.username}:pa55-w0rd@{url.netloc.rpartition('@')[2]}")
        monkeypatch.setenv("ZHIKU_DATABASE_URL", urlunsplit(url))
    password = url.password or ""
    stats = last_json(cli("stats", "--json"))
    human = cli("stats").output
    assert stats["backend"] == "postgresql" and list(stats["knowledge_bases"]) == [KB]
    assert stats["database"].startswith(f"postgresql://{url.username}:***@")
    assert stats["database"].endswith(url.path + (f"?{url.query}" if url.query else ""))
    assert f"database: postgresql {stats['database']}" in human
    for output in (json.dumps(stats), human):
        assert password not in output and "zhiku.db" not in output


def test_kb_settings_show_change_and_unset(cli: Any) -> None:
    cli("kb", "create", "hr", "--embedder", "hashing", "--chunk-tokens", "64")
    changed = last_json(cli("kb", "settings", "hr", "chunk_overlap=8", "graph=true", "--json"))
    assert changed == {"chunk_tokens": 64, "chunk_overlap": 8, "graph": True}
    unset = last_json(cli("kb", "settings", "hr", "chunk_tokens=", "--json"))
    assert unset == {"chunk_overlap": 8, "graph": True}
    assert "chunk_overlap = 8" in cli("kb", "settings", "hr").output
    assert "unknown knowledge base setting" in cli("kb", "settings", "hr", "size=3",
                                                   code=2).output
    assert "whole number" in cli("kb", "settings", "hr", "rerank_top_n=0", code=2).output
    assert "true or false" in cli("kb", "settings", "hr", "graph=maybe", code=2).output
    assert last_json(cli("kb", "list", "--json"))[0]["settings"] == unset


def test_docs_tags_metadata_and_chunk_edits(cli: Any, tmp_path: Path) -> None:
    docs = write_docs(tmp_path)
    cli("kb", "create", KB, "--embedder", "hashing")
    cli("ingest", "--kb", KB, str(docs / "handbook.md"))
    source = str((docs / "handbook.md").resolve())
    assert "人事, hr" in cli("docs", "tag", source, "人事", "hr", "--kb", KB).output
    parsed = last_json(cli("docs", "meta", source, "--kb", KB))  # what the parser recorded
    meta = last_json(cli("docs", "meta", source, "team=people", "year=2024", "--kb", KB))
    assert meta == {**parsed, "tags": ["人事", "hr"], "team": "people", "year": 2024}
    assert last_json(cli("docs", "meta", source, "year=", "--kb", KB)) == {
        **parsed, "tags": ["人事", "hr"], "team": "people"}
    tagged = last_json(cli("search", "--kb", KB, "--json", "--filter", '{"tags": ["hr"]}',
                           "annual leave"))["hits"]
    assert tagged and tagged[0]["source"] == source
    cli("docs", "tag", source, "--clear", "--kb", KB)
    assert last_json(cli("docs", "meta", source, "--kb", KB)) == {
        **parsed, "tags": [], "team": "people"}

    hit = last_json(cli("search", "--kb", KB, "--json", "annual leave"))["hits"][0]
    chunk_id = str(hit["chunk_id"])
    cli("docs", "chunk", "disable", chunk_id, "--kb", KB)
    assert last_json(cli("docs", "chunk", "show", chunk_id, "--kb", KB, "--json"))[
        "enabled"] is False
    hits = last_json(cli("search", "--kb", KB, "--json", "annual leave"))["hits"]
    assert all(h["chunk_id"] != hit["chunk_id"] for h in hits)
    cli("docs", "chunk", "enable", chunk_id, "--kb", KB)
    edited = cli("docs", "chunk", "edit", chunk_id, "-", "--kb", KB,
                 input="New staff get twenty vacation days.")
    assert "twenty vacation days" in edited.output
    found = last_json(cli("search", "--kb", KB, "--json", "--mode", "vector",
                          "twenty vacation days"))["hits"]
    assert found[0]["chunk_id"] == hit["chunk_id"]  # re-embedded, not only re-indexed
    listed = last_json(cli("docs", "list", "--kb", KB, "--json"))
    assert [d["status"] for d in listed] == ["ready"]
    assert "does not exist" in cli("docs", "chunk", "show", "999999", "--kb", KB,
                                   code=2).output


def test_search_filters_and_modes(cli: Any, tmp_path: Path) -> None:
    docs = write_docs(tmp_path)
    cli("kb", "create", KB, "--embedder", "hashing")
    cli("ingest", "--kb", KB, "--meta", '{"tags": ["it"]}', str(docs / "it"))
    cli("ingest", "--kb", KB, str(docs / "handbook.md"))
    hits = last_json(cli("search", "--kb", KB, "--json", "--filter", '{"tags": ["it"]}',
                         "leave password laptop"))["hits"]
    assert hits and all(h["source"].endswith("faq.csv") for h in hits)
    for mode in ("keyword", "vector", "hybrid"):
        top = last_json(cli("search", "--kb", KB, "--json", "--mode", mode, "annual leave"))
        assert top["hits"][0]["source"].endswith("handbook.md"), mode
    assert "--filter" in cli("search", "--kb", KB, "--filter", "{nope", "x", code=2).output
    assert "mode" in cli("search", "--kb", KB, "--mode", "fuzzy", "x", code=2).output
    assert "QUERY" in cli("search", "--kb", KB, code=2).output
    human = cli("search", "--kb", KB, "annual leave")
    assert "handbook.md" in human.output and "Employee handbook > Leave" in human.output


@pytest.mark.backend("sqlite")  # on PostgreSQL, ZHIKU_DATABASE_URL and not ZHIKU_HOME names it
def test_zhiku_home_override(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("kb", "create", "first", "--embedder", "hashing")
    other = tmp_path / "elsewhere"
    monkeypatch.setenv("ZHIKU_HOME", str(other))
    assert last_json(cli("kb", "list", "--json")) == []
    cli("kb", "create", "second", "--embedder", "hashing")
    stats = last_json(cli("stats", "--json"))
    assert stats["database"] == str(other / "zhiku.db")
    assert list(stats["knowledge_bases"]) == ["second"]
    assert (other / "zhiku.db").is_file()
