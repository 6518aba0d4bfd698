"""Backup and restore on the run's backend: a round trip gives the same search results (ids
and scores) and counts; a backup taken while ingestion writes restores to a consistent
database; a damaged file, a wrong target and a non-empty target are refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import psycopg
import pytest

import pgtest
from zhiku.backup.checks import check
from zhiku.backup.manifest import Manifest
from zhiku.backup.run import backup, restore
from zhiku.core.errors import Conflict, InvalidInput
from zhiku.core.settings import Settings
from zhiku.ingest.events import FileResult, NullListener
from zhiku.service import Zhiku

QUERIES = ("annual leave for new employees", "报销需要什么发票", "broken laptop help desk",
           "project code 4471")
_names = count(1)


def _settings(home: Path, url: str | None = None) -> Settings:
    extra = {} if url is None else {"database_url": url}
    return Settings(home=home, embedder="hashing", parse_workers=0, ocr=False, **extra)


def _write_docs(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    topics = [
        "New employees get fifteen days of paid annual leave; requests go to the manager.",
        "报销需要提供原始发票和项目编号，报销款每月发放一次。",
        "Call the IT help desk on extension 4400 for a broken laptop.",
        "Every expense claim names the project code, for example 4471 or 5520.",
    ]
    paths = []
    for i in range(n):
        path = folder / f"doc{i:03d}.md"
        path.write_text(f"# Note {i}\n\n{topics[i % 4]} Item {i} of the handbook.\n\n"
                        f"## Details {i}\n\n{topics[(i + 1) % 4]}\n", encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture
def source(zhiku_home: Path) -> Settings:
    """The installation of the run's backend (a home, or a PostgreSQL database)."""
    return _settings(zhiku_home)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Settings]:
    """An empty home and, on PostgreSQL, an empty database (no tables, no pgvector yet)."""
    if pgtest.BACKEND != "postgres":
        yield _settings(tmp_path / "restored-home")
        return
    name = f"zhiku_restore{next(_names)}_{threading.get_ident() % 10000}"
    with psycopg.connect(pgtest.admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")  # type: ignore[arg-type]
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    url = pgtest.with_database(pgtest.admin_url(), name)
    yield _settings(tmp_path / "restored-home", url)
    pgtest.drop_database(url)


def _results(zk: Zhiku) -> list[list[tuple[int, int, float]]]:
    return [[(h.chunk_id, h.document_id, round(h.score, 9)) for h in zk.search("hb", q, top_k=5)]
            for q in QUERIES]


def test_round_trip_gives_the_same_search_results_and_counts(
    source: Settings, target: Settings, tmp_path: Path
) -> None:
    with Zhiku(source) as zk:
        zk.create_kb("hb")
        zk.ingest("hb", _write_docs(tmp_path / "docs", 24))
        zk.add_provider("llm", base_url="http://127.0.0.1:9/v1", models=["m"], api_key="sk-x")
        before, stats = _results(zk), zk.stats()
        assert all(before)
    manifest = backup(source, tmp_path / "backup")
    assert manifest.backend == source.database_kind and manifest.counts["documents"] == 24
    restore(target, tmp_path / "backup")
    with Zhiku(target) as zk:
        assert _results(zk) == before
        assert zk.stats() == stats
        assert zk.llm.providers.api_key(zk.llm.providers.get("llm")) == "sk-x"  # the key file
        assert [e.action for e in zk.audit_export()][:1] == ["kb.create"]


def test_a_backup_during_ingestion_restores_consistently(
    source: Settings, target: Settings, tmp_path: Path
) -> None:
    docs = _write_docs(tmp_path / "docs", 150)
    with Zhiku(source) as zk:
        zk.create_kb("hb")
        zk.ingest("hb", docs[:2])
        started = threading.Event()

        class Paced(NullListener):
            """Signals after ten files, and paces the rest so the backup lands mid-way."""

            done = 0

            def file_done(self, result: FileResult) -> None:
                self.done += 1
                if self.done >= 10:
                    started.set()
                time.sleep(0.02)

        worker = threading.Thread(target=zk.ingest, args=("hb", docs[2:]),
                                  kwargs={"listener": Paced()})
        worker.start()
        try:
            assert started.wait(60)
            manifest = backup(source, tmp_path / "backup")
        finally:
            worker.join()
        total = zk.stats()["hb"]["documents"]
    assert 12 <= manifest.counts["documents"] < total == 150
    restore(target, tmp_path / "backup")
    with Zhiku(target) as zk:
        check(zk.db.conn)
        assert zk.stats()["hb"]["documents"] == manifest.counts["documents"]
        assert zk.search("hb", "annual leave", mode="keyword")
        assert zk.search("hb", "annual leave")


def test_a_damaged_file_is_refused_naming_it(
    source: Settings, target: Settings, tmp_path: Path
) -> None:
    with Zhiku(source) as zk:
        zk.create_kb("hb")
        zk.ingest("hb", _write_docs(tmp_path / "docs", 3))
    folder = tmp_path / "backup"
    manifest = backup(source, folder)
    db_file = manifest.files[0].path
    data = bytearray((folder / db_file).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / db_file).write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match=f"backup file {db_file} is damaged"):
        restore(target, folder)
    (folder / db_file).unlink()
    with pytest.raises(InvalidInput, match=f"backup file {db_file} is missing"):
        restore(target, folder)
    assert not (target.home / "secret.key").exists()  # nothing written before the checks
    with pytest.raises(InvalidInput, match=r"manifest\.json is missing"):
        restore(target, tmp_path / "docs")


def test_a_non_empty_target_is_refused(source: Settings, tmp_path: Path) -> None:
    with Zhiku(source) as zk:
        zk.create_kb("hb")
    folder = tmp_path / "backup"
    backup(source, folder)
    with pytest.raises(Conflict, match="restore into an empty"):
        restore(source, folder)  # the installation it came from
    with pytest.raises(Conflict, match="not an empty folder"):
        backup(source, folder)
    assert Manifest.read(folder).schema_version > 0
