"""Scheduled syncs on the run's backend: a due source gets exactly one run, however many
processes look at once; a source still syncing gets none; a job runner queues and runs them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from waiting import wait_until
from zhiku.connectors.schedule import iso, next_run, submit_due
from zhiku.core.settings import Settings
from zhiku.jobs.process import Jobs
from zhiku.service import Zhiku


@pytest.fixture
def zk(zhiku_home: Path, tmp_path: Path) -> Iterator[Zhiku]:
    settings = Settings(home=zhiku_home, embedder="hashing", parse_workers=0,
                        sources_schedule_seconds=0.1)
    (tmp_path / "share").mkdir()
    (tmp_path / "share" / "a.md").write_text("# A\n\nScheduled text.\n")
    with Zhiku(settings) as service:
        service.create_kb("kb")
        service.sources.add("kb", "docs", "folder", {"path": str(tmp_path / "share")},
                            schedule="*/5 * * * *")
        yield service


def make_due(zk: Zhiku) -> None:
    source = zk.sources.get("docs", "kb")
    zk.sources.store.update(source.id, next_run_at=iso(datetime.now(UTC) - timedelta(minutes=1)))


def sync_jobs(zk: Zhiku) -> list[int]:
    return [j.id for j in zk.jobs.list("kb") if j.kind == "sync"]


def test_next_run_follows_the_cron_expression() -> None:
    start = datetime(2026, 3, 1, 10, 2, tzinfo=UTC)
    assert next_run("*/5 * * * *", start) == "2026-03-01T10:05:00.000Z"
    assert next_run("0 3 * * *", start) == "2026-03-02T03:00:00.000Z"


def test_a_due_source_gets_one_run_however_many_look(zk: Zhiku) -> None:
    source = zk.sources.get("docs", "kb")
    assert source.next_run_at is not None and source.next_run_at > iso(datetime.now(UTC))
    assert submit_due(zk.db, zk.jobs.queue.enqueue) == []  # not due yet

    make_due(zk)
    queued: list[int] = []
    barrier = threading.Barrier(4)

    def look() -> None:
        barrier.wait()
        queued.extend(submit_due(zk.db, zk.jobs.queue.enqueue))

    threads = [threading.Thread(target=look) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(queued) == 1 and len(sync_jobs(zk)) == 1
    run = zk.sources.run(queued[0])
    assert (run.status, run.origin) == ("queued", "schedule")
    assert zk.sources.get("docs", "kb").next_run_at > iso(datetime.now(UTC))  # type: ignore[operator]

    make_due(zk)  # due again while the first run still waits: this tick is skipped
    assert submit_due(zk.db, zk.jobs.queue.enqueue) == []
    assert len(sync_jobs(zk)) == 1


def test_a_disabled_source_is_not_scheduled(zk: Zhiku) -> None:
    zk.sources.update("docs", "kb", enabled=False)
    make_due(zk)
    assert submit_due(zk.db, zk.jobs.queue.enqueue) == []


def test_the_job_runner_queues_and_runs_due_syncs(zk: Zhiku) -> None:
    jobs = Jobs.of(zk.settings, zk.db, zk.runtime)
    jobs.start(concurrency=1, label="test")
    try:
        make_due(zk)
        runs = wait_until(lambda: [r for r in zk.sources.runs("docs", "kb")
                                   if r.status == "done"], 30, "the scheduled run")
    finally:
        jobs.stop()
    assert runs[0].origin == "schedule" and runs[0].added == 1
    assert [d.title for d in zk.documents("kb")] == ["A"]
