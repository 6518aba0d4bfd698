"""What background jobs do, by kind: ``ingest`` uploads, fetch and ingest a ``url``, ``reindex`` a
document from its stored original, ``embed`` edited chunks, build the knowledge ``graph``,
execute an ``eval`` run, and ``sync`` a source.

Running a job again is safe: the pipeline skips files whose content hash it already holds,
first embeds the chunks of documents an earlier try left ``parsed``, and replaces a changed
document in one transaction; the ``documents (kb_id, source)`` key keeps one document per source.
An eval run executed again starts over.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from zhiku.core.errors import InvalidInput, NotFound, ZhikuError
from zhiku.ingest import originals
from zhiku.ingest.events import FileResult
from zhiku.ingest.fetch import Fetcher, fetched_item
from zhiku.ingest.pipeline import SourceItem
from zhiku.jobs.queue import LOST, Job, job_of
from zhiku.jobs.runner import Control, Outcome
from zhiku.permissions.context import reading_as
from zhiku.store.db import Database
from zhiku.store.reader import EVERYTHING, Reader

if TYPE_CHECKING:
    from zhiku.connectors.store import Counts
    from zhiku.service import Zhiku

INGEST_KINDS = frozenset({"ingest", "url", "reindex", "embed"})


class Facades(Protocol):
    """The facade of each workspace (the process's ``zhiku.runtime.Runtime``)."""

    def workspace(self, ref: int | str = ...) -> Zhiku: ...


def progress_of(state: dict[str, Any]) -> float:
    """0..1 from files parsed (first half) and chunks embedded (second half)."""
    files = max(int(state.get("files_total", 0)), 1)
    parsed = min(int(state.get("files_done", 0)) / files, 1.0)
    chunks = int(state.get("chunks_total", 0))
    embedded = min(int(state.get("chunks_embedded", 0)) / chunks, 1.0) if chunks else parsed
    return round(0.5 * parsed + 0.5 * embedded * parsed, 4)


class _Progress:
    """Turns pipeline events into job progress; between files, stops if the worker must."""

    def __init__(self, control: Control, state: dict[str, Any]) -> None:
        self._control, self._state = control, state
        self._last = 0.0

    def file_done(self, result: FileResult) -> None:
        s = self._state
        s["files_done"] += 1
        s["results"].append(
            {
                "source": result.source,
                "status": result.status,
                "document_id": result.document_id,
                "chunks": result.chunks,
                "error": result.error,
            }
        )
        self._save(force=True)
        self._control.check()

    def queued(self, count: int) -> None:
        self._state["chunks_total"] += count
        self._save()

    def embedded(self, count: int) -> None:
        self._state["chunks_embedded"] += count
        self._save()

    def _save(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last > 0.5:
            self._last = now
            self._control.save(self._state, progress_of(self._state))


class JobHandler:
    """Runs one job through its workspace's facade (a ``jobs.Handler``)."""

    def __init__(self, db: Database, facades: Facades, fetcher: Fetcher) -> None:
        self._db = db
        self._facades = facades
        self._fetch = fetcher

    def __call__(self, job: Job, control: Control) -> Outcome:
        state = job.payload
        zk = self._facades.workspace(int(state["workspace_id"]))
        if job.kind == "eval":
            return self._eval(zk, job, control)
        if job.kind == "sync":
            return self._sync(zk, job, control)
        state.update(files_done=0, chunks_total=0, chunks_embedded=0, results=[])
        error: str | None = None
        if job.kind == "graph":
            self._build_graph(zk, state)
        elif job.kind in INGEST_KINDS:
            # A first try embeds its own files only; a retry, or an embed job, also embeds what
            # earlier runs left parsed (another worker may be embedding those right now).
            first = job.attempts <= 1 and job.kind != "embed"
            report = zk.ingest_items(state["kb"], self._items(zk, job), _Progress(control, state),
                                     sweep="none" if first else "parsed")
            failed = len(report.failed)
            if failed and failed == len(report.files):
                error = report.failed[0].error if failed == 1 else f"{failed} files failed"
        else:
            raise InvalidInput(f"unknown job kind '{job.kind}'")
        state["chunks_embedded"] = max(state["chunks_embedded"], state["chunks_total"])
        return Outcome(state, error)

    def dead(self, job_id: int) -> None:
        """A job gave up: an eval run it was executing is marked failed."""
        row = self._db.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            return
        job = job_of(row)
        if job.kind == "sync":
            zk = self._facades.workspace(int(job.payload["workspace_id"]))
            zk.sources.store.fail_run(int(job.payload["run_id"]), job.error or LOST)
        if job.kind == "eval":
            from zhiku.evals import runs

            zk = self._facades.workspace(int(job.payload["workspace_id"]))
            runs.fail_run(zk.evals, int(job.payload["run_id"]), job.error or LOST)

    def _eval(self, zk: Zhiku, job: Job, control: Control) -> Outcome:
        """Execute the job's eval run; progress counts questions."""
        from zhiku.evals import runs
        state = job.payload
        spec = state["target"]

        def progress(done: int, total: int) -> None:
            if done == total or done % 10 == 0:
                control.save(state, round(done / total, 4) if total else 1.0)
                control.check()

        run_id = int(state["run_id"])
        try:
            target = zk.eval_target(spec["kind"], spec["name"], spec.get("mode", "hybrid"))
        except ZhikuError as exc:
            runs.fail_run(zk.evals, run_id, f"{type(exc).__name__}: {exc}")
            raise
        # read as whoever started the run (runs queued before readers were recorded: all)
        with reading_as(Reader.of(state["reader"]) if "reader" in state else EVERYTHING):
            record = runs.execute(zk.evals, run_id, target, progress)
        state["result"] = {"run_id": record.id, "status": record.status}
        return Outcome(state)

    def _sync(self, zk: Zhiku, job: Job, control: Control) -> Outcome:
        """Execute the job's sync run; progress is unknown until the listing ends, so the
        state carries the counts so far."""
        state = job.payload
        saved = [0.0]

        def checkpoint(counts: Counts) -> None:
            now = time.monotonic()
            if now - saved[0] > 0.5:  # the counts so far, twice a second at most
                saved[0] = now
                state["files_done"] = (counts.added + counts.updated + counts.unchanged
                                       + counts.failed)
                state["result"] = {"added": counts.added, "updated": counts.updated,
                                   "unchanged": counts.unchanged, "failed": counts.failed}
                control.save(state, 0.0)
            control.check()

        run = zk.sources.execute(int(state["run_id"]), checkpoint, first_try=job.attempts <= 1)
        state["files_done"] = run.added + run.updated + run.unchanged + run.failed
        state["result"] = {"run_id": run.id, "status": run.status, "added": run.added,
                           "updated": run.updated, "unchanged": run.unchanged,
                           "removed": run.removed, "failed": run.failed, "error": run.error}
        return Outcome(state, run.error if run.status == "failed" else None)

    def _build_graph(self, zk: Zhiku, state: dict[str, Any]) -> None:
        """Run the rules extractor over pending chunks (resumable), then communities."""
        report = zk.graph.build(state["kb"])
        found = zk.graph.communities(state["kb"]) if state.get("communities", True) else None
        state["chunks_total"] = state["chunks_embedded"] = report.chunks
        state["result"] = {"chunks": report.chunks, "seconds": report.seconds,
                           "communities": found, **zk.graph.stats(state["kb"])}

    def _items(self, zk: Zhiku, job: Job) -> Iterator[SourceItem]:
        state = job.payload
        if job.kind == "url":
            yield self._fetch_item(job)
            return
        for item in state.get("items", []):
            if job.kind == "reindex":
                with contextlib.suppress(NotFound):
                    zk.delete_document(state["kb"], item["source"], audit=False)
            data = originals.get(self._db, item["sha256"]).data
            groups = item.get("groups")  # None: unrestricted (or a job queued without them)
            yield SourceItem(item["source"], data=data, metadata=dict(item.get("metadata") or {}),
                             groups=None if groups is None else tuple(int(g) for g in groups))

    def _fetch_item(self, job: Job) -> SourceItem:
        state = job.payload
        fetched = self._fetch(state["url"])
        with self._db.write() as conn:
            originals.put(conn, fetched[0], fetched[1])
        return fetched_item(state["url"], fetched, state.get("metadata"))
