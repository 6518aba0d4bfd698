"""Shared fixtures: every test gets its own ZHIKU_HOME under tmp_path; real data from ../shared.

The suite runs twice, on SQLite and then with ``ZHIKU_TEST_BACKEND=postgres``; each test runs
in the passes where it can tell something new:

- ``@pytest.mark.backend("postgres")`` (or a fixture parameter so marked, see
  ``pgtest.backend_params``) runs only in the pass of that backend; so do tests that use the
  ``pg_url`` fixture (PostgreSQL).
- A test that opens no database of the run's backend runs in the SQLite pass only. It counts as
  such unless one of its fixtures is in ``DATABASE_FIXTURES``, its module names one of
  ``MODULE_WORDS``, its code or one of its fixtures' names one of ``CODE_WORDS``, or it is
  marked ``database``. In the SQLite pass such a test gets a ``ZHIKU_DATABASE_URL`` that cannot
  be opened, so one that opens the configured database after all fails at once (and says
  "mark it database") instead of silently losing its PostgreSQL run.
"""

from __future__ import annotations

import csv
import gzip
import inspect
import json
import os
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import pgtest
from hashing import CHEAP_SETTINGS
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
    overrides = {**CHEAP_SETTINGS, **overrides}
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


BACKENDS = ("sqlite", "postgres")
# Fixtures that hand a test the run's database (directly or through settings that name it).
DATABASE_FIXTURES = frozenset(
    {"zhiku_home", "settings", "zk", "make_settings", "pg_url", "db", "database_url"}
)
# Words in a test module that reach the run's database without those fixtures.
MODULE_WORDS = ("pgtest", "ZHIKU_DATABASE_URL")
# Words in a test function or one of its fixtures that open the database its environment names.
CODE_WORDS = (*MODULE_WORDS, "Zhiku(", "CliRunner", "ZHIKU_HOME")
# What a test judged database-free gets as its database in the SQLite pass: a file that cannot
# be created, so opening the configured database fails at once, naming the remedy.
NO_DATABASE_URL = "sqlite:////proc/zhiku-test-judged-database-free/mark-it-database.db"


@cache
def _module_mentions_database(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return any(word in text for word in MODULE_WORDS)


@cache
def _code_mentions_database(func: Callable[..., Any]) -> bool:
    try:
        text = inspect.getsource(func)
    except (OSError, TypeError):  # pytest's own fixtures
        return False
    return any(word in text for word in CODE_WORDS)


def _fixture_closure(item: pytest.Item) -> dict[str, Any]:
    """The fixtures a test asks for, and theirs in turn (autouse ones only when asked for)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return {}
    todo = list(info.argnames)
    for mark in item.iter_markers("usefixtures"):
        todo.extend(mark.args)
    found: dict[str, Any] = {}
    while todo:
        name = todo.pop()
        defs = info.name2fixturedefs.get(name)
        if name in found or not defs:
            continue
        found[name] = defs[-1].func
        todo.extend(defs[-1].argnames)
    return found


def _backend_of(item: pytest.Item) -> str | None:
    """The backend a test is bound to, if any."""
    mark = item.get_closest_marker("backend")
    if mark is not None:
        if mark.args[0] not in BACKENDS:
            raise pytest.UsageError(f"{item.nodeid}: backend must be one of {BACKENDS}")
        return str(mark.args[0])
    return "postgres" if "pg_url" in _fixture_closure(item) else None


def _opens_no_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("database") is not None:
        return False
    fixtures = _fixture_closure(item)
    if DATABASE_FIXTURES & fixtures.keys():
        return False
    if _module_mentions_database(item.path):
        return False
    code = [*fixtures.values(), getattr(item, "function", None)]
    return not any(_code_mentions_database(func) for func in code if func is not None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each test to the passes where it can fail differently (see the module docstring)."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        bound = _backend_of(item)
        if bound is None and _opens_no_database(item):
            item.add_marker(pytest.mark.db_free)
            bound = "sqlite"
        (keep if bound in (None, pgtest.BACKEND) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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
    for name, value in CHEAP_SETTINGS.items():
        monkeypatch.setenv(f"ZHIKU_{name.upper()}", str(value))
    if request.node.get_closest_marker("db_free") is not None:
        monkeypatch.setenv("ZHIKU_DATABASE_URL", NO_DATABASE_URL)
        yield home
        return
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
def scripted() -> Iterator[Any]:
    """The scripted OpenAI-compatible server of the LLM tests on 127.0.0.1
    (tests/llm/llm_scripted_server.py): queue replies with ``push(Script(...))``."""
    from scripted_llm import running_scripted

    with running_scripted() as server:
        yield server


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
