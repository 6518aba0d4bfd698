"""SIGKILL in the middle of a large ingest, then the same command again: the job finishes with
every file present exactly once and every chunk embedded (real CLI, real model, real files)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dbcheck import count, fulltext_rows, raw_database
from waiting import wait_until
from zhiku.core.settings import Settings
from zhiku.store.db import Database

ZHIKU = Path(sys.executable).with_name("zhiku")
N_FILES = 300
pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")


def env_for(home: Path) -> dict[str, str]:
    # the database URL stays: with ZHIKU_TEST_BACKEND=postgres the CLI runs on PostgreSQL
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ZHIKU_") or k == "ZHIKU_DATABASE_URL"}
    # The real bundled model, on short inputs so the test stays quick on two cores.
    env.update(ZHIKU_HOME=str(home), ZHIKU_EMBED_MAX_TOKENS="16", COLUMNS="200")
    return env


def db_counts(db: Database) -> dict[str, int]:
    return {
        "documents": count(db, "SELECT count(*) FROM documents"),
        "ready": count(db, "SELECT count(*) FROM documents WHERE status = 'ready'"),
        "searchable": count(db, "SELECT count(*) FROM chunks WHERE searchable = 1"),
        "vectors": count(db, "SELECT count(*) FROM embeddings"),
    }


def test_sigkill_mid_ingest_then_resume(
    tmp_path: Path, scifact_first: Callable[[int], list[Any]]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    abstracts = scifact_first(N_FILES)
    for p in abstracts:
        (docs / f"{p.id}.txt").write_text(f"{p.title}\n\n{p.text}\n", encoding="utf-8")
    home = tmp_path / "home"
    env = env_for(home)
    run = subprocess.run([str(ZHIKU), "kb", "create", "scifact"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    with raw_database(Settings(home=home)) as db:
        _kill_and_resume(db, docs, env, abstracts)


def _kill_and_resume(db: Database, docs: Path, env: dict[str, str], abstracts: list[Any]) -> None:
    command = [str(ZHIKU), "ingest", "--kb", "scifact", "--json", str(docs)]

    # 1. start the ingest and kill -9 it once some (not all) documents are committed
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    at_kill: dict[str, int] = {}

    def killable() -> bool:
        if proc.poll() is not None:
            return True  # finished too early: asserted below
        at_kill.update(db_counts(db))
        return at_kill["ready"] >= 20

    try:
        wait_until(killable, 240, "20 documents committed by the ingest")
        still_running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert still_running, "the ingest finished before it could be killed; add files"
    assert proc.returncode == -signal.SIGKILL
    after_kill = db_counts(db)
    assert 20 <= after_kill["documents"] < N_FILES, after_kill
    assert at_kill["ready"] <= after_kill["ready"] < N_FILES
    print("state after SIGKILL:", after_kill)  # shown with -s: parsed vs embedded at the kill

    # 2. the same command again finishes the job
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout.strip().splitlines()[-1])
    statuses = [f["status"] for f in summary["files"]]
    assert len(statuses) == N_FILES and "failed" not in statuses
    assert statuses.count("unchanged") == after_kill["documents"]
    assert statuses.count("added") == N_FILES - after_kill["documents"]

    # 3. every file exactly once, every searchable chunk with exactly one vector
    sources = [r[0] for r in db.conn.execute("SELECT source FROM documents")]
    assert sorted(sources) == sorted(str(p.resolve()) for p in docs.iterdir())
    assert len(set(sources)) == len(sources) == N_FILES
    assert {r[0] for r in db.conn.execute("SELECT DISTINCT status FROM documents")} == {"ready"}
    bad_counts = db.conn.execute(
        "SELECT d.source FROM documents d WHERE d.chunk_count != "
        "(SELECT count(*) FROM chunks c WHERE c.document_id = d.id AND c.searchable = 1)"
    ).fetchall()
    assert bad_counts == []
    dup_ords = db.conn.execute(
        "SELECT document_id, ord FROM chunks GROUP BY document_id, ord HAVING count(*) > 1"
    ).fetchall()
    assert dup_ords == []
    missing = count(
        db,
        "SELECT count(*) FROM chunks c WHERE c.searchable = 1 AND NOT EXISTS "
        "(SELECT 1 FROM embeddings e WHERE e.chunk_id = c.id)",
    )
    assert missing == 0
    models = [tuple(r) for r in db.conn.execute("SELECT DISTINCT model, dim FROM embeddings")]
    assert models == [("all-MiniLM-L6-v2-int8", 384)]
    searchable = count(db, "SELECT count(*) FROM chunks WHERE searchable = 1")
    assert count(db, "SELECT count(*) FROM embeddings") == searchable
    assert fulltext_rows(db) == searchable
    # the re-run embedded exactly what was missing: no vector computed twice, none skipped
    assert summary["chunks_embedded"] == searchable - after_kill["vectors"]
    if db.dialect == "sqlite":
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # 4. a third run has nothing left to do, and the corpus answers questions
    third = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    final = json.loads(third.stdout.strip().splitlines()[-1])
    assert {f["status"] for f in final["files"]} == {"unchanged"}
    assert final["chunks_embedded"] == 0
    last = abstracts[-1]
    found = subprocess.run([str(ZHIKU), "search", "--kb", "scifact", "--json", "--top-k", "1",
                            last.title], env=env, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["hits"][0]["source"] == str((docs / f"{last.id}.txt")
                                                               .resolve())


def test_killed_between_vectors_and_ready_is_marked_ready_on_rerun(
    zk: Any, settings: Settings, tmp_path: Path, scifact_first: Callable[[int], list[Any]]
) -> None:
    """A run killed after storing a document's last vectors but before marking it ready: the
    next run has nothing to embed for it and must still mark it ready."""
    zk.create_kb("k", embedder="hashing")
    folder = tmp_path / "docs"
    folder.mkdir()
    for n, p in enumerate(scifact_first(3)):
        (folder / f"a{n}.md").write_text(f"# {p.title}\n\n{p.text}\n", encoding="utf-8")
    zk.ingest("k", [folder])
    with raw_database(settings) as db, db.write() as conn:  # the state the kill leaves
        conn.execute("UPDATE documents SET status = 'parsed' WHERE source LIKE ?", ("%a1.md",))
    assert [d.status for d in zk.documents("k")].count("parsed") == 1
    report = zk.ingest("k", [folder])
    assert all(f.status == "unchanged" for f in report.files)  # nothing re-parsed
    assert {d.status for d in zk.documents("k")} == {"ready"}
