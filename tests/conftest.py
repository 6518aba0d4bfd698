"""Shared fixtures: every test gets its own ZHIKU_HOME under tmp_path; real data from ../shared."""

from __future__ import annotations

import csv
import gzip
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pgtest
from shared_data import (
    CMRC_DEV,
    SCIFACT_CORPUS,
    SCIFACT_QRELS,
    SCIFACT_QUERIES,
    Passage,
    need,
    scifact_abstracts,
)
from zhiku.core.settings import Settings
from zhiku.service import Zhiku


def _clean_settings(home: Path, **overrides: Any) -> Settings:
    if pgtest.BACKEND == "postgres" and "database_url" not in overrides:
        overrides["database_url"] = pgtest.fresh_database()
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("ZHIKU_"):
                mp.delenv(key)
        return Settings(home=home, **overrides)


@pytest.fixture(scope="session")
def make_settings() -> Callable[..., Settings]:
    """``make_settings(home, **overrides)``: settings that ignore the shell's ZHIKU_* variables
    (for module-scoped fixtures, which run outside the per-test environment)."""
    return _clean_settings


@pytest.fixture(autouse=True)
def zhiku_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Path]:
    """Send all state of every test to tmp_path, whatever the developer's environment says.

    With ``ZHIKU_TEST_BACKEND=postgres`` the test's database is a fresh PostgreSQL database
    (``ZHIKU_DATABASE_URL``) instead of HOME/zhiku.db: the whole suite runs on either backend.
    Modules marked ``shared_server`` use one server of their own for all their tests, so their
    tests get no database each (a PostgreSQL one costs about a second).
    """
    for key in list(os.environ):
        if key.startswith("ZHIKU_"):
            monkeypatch.delenv(key)
    home = tmp_path / "zhiku-home"
    monkeypatch.setenv("ZHIKU_HOME", str(home))
    shared = request.node.get_closest_marker("shared_server") is not None
    url = pgtest.fresh_database() if pgtest.BACKEND == "postgres" and not shared else None
    if url:
        monkeypatch.setenv("ZHIKU_DATABASE_URL", url)
    yield home
    if url:
        pgtest.drop_database(url)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (whatever the backend of the run)."""
    url = pgtest.fresh_database()
    yield url
    pgtest.drop_database(url)


@pytest.fixture
def settings(zhiku_home: Path) -> Settings:
    """Settings on the test's private home."""
    return Settings(home=zhiku_home)


@pytest.fixture
def zk(settings: Settings) -> Iterator[Zhiku]:
    """The Python API on a fresh database (a SQLite file, or PostgreSQL with
    ``ZHIKU_TEST_BACKEND=postgres``)."""
    with Zhiku(settings) as service:
        yield service


@pytest.fixture(scope="session")
def cmrc_passages() -> list[Passage]:
    """The first paragraph of each of the first 60 CMRC 2018 dev articles, with a question."""
    # (answer: the first reference answer; title: the article title)
    need(CMRC_DEV)
    data = json.loads(CMRC_DEV.read_text(encoding="utf-8"))
    out: list[Passage] = []
    for article in data["data"][:60]:
        para = article["paragraphs"][0]
        qa = para["qas"][0]
        out.append(
            Passage(para["id"], para["context"], qa["question"], qa["answers"][0]["text"],
                    article.get("title", ""))
        )
    return out


@pytest.fixture(scope="session")
def scifact_first() -> Callable[[int], list[Passage]]:
    """``scifact_first(n)``: the first ``n`` SciFact abstracts of the corpus file."""
    return scifact_abstracts


@pytest.fixture(scope="session")
def scifact_passages() -> list[Passage]:
    """SciFact abstracts, each with a test claim it is the only relevant abstract for."""
    need(SCIFACT_QRELS)
    targets: dict[str, list[str]] = {}
    with SCIFACT_QRELS.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            targets.setdefault(row["query-id"], []).append(row["corpus-id"])
    claims = {}
    with SCIFACT_QUERIES.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            claims[row["_id"]] = row["text"]
    chosen: dict[str, str] = {}  # corpus id -> claim
    for qid, docs in targets.items():
        if len(docs) == 1 and docs[0] not in chosen:
            chosen[docs[0]] = claims[qid]
        if len(chosen) >= 30:
            break
    out: list[Passage] = []
    with gzip.open(SCIFACT_CORPUS, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["_id"] in chosen:
                out.append(Passage(row["_id"], row["text"], chosen[row["_id"]], title=row["title"]))
    return out
