"""Background ingestion inside the server process.

A request stores the uploaded bytes (``originals``) and a ``queued`` job in one transaction
and returns; a worker thread claims jobs one at a time and runs them through the facade. A job
left ``running`` by a process that no longer exists (a crash, a restart) is queued again, and
re-running is safe because the pipeline skips what it already wrote.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from zhiku.api import originals
from zhiku.api.services import Workspaces
from zhiku.core.errors import NotFound, ZhikuError
from zhiku.ingest.events import FileResult
from zhiku.ingest.pipeline import SourceItem
from zhiku.store.records import KnowledgeBase
from zhiku.store.sqlite.db import Database

log = logging.getLogger("zhiku.api.jobs")
KIND_PREFIX = "api_"
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_OWNER = f"{os.uname().nodename}:{os.getpid()}"
_EXTENSIONS = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/csv": "csv",
    "application/json": "json",
    "application/pdf": "pdf",
}

Fetcher = Callable[[str], tuple[bytes, str, str]]  # url → (data, content type, final url)


@dataclass(slots=True)
class Upload:
    """One uploaded file."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass(slots=True)
class Job:
    """A job as the API shows it."""

    id: int
    kind: str
    kb_id: int | None
    status: str
    progress: float
    error: str | None
    created_at: str
    updated_at: str
    payload: dict[str, Any] = field(default_factory=dict)


class _Progress:
    """Turns pipeline events into job progress rows."""

    def __init__(self, jobs: Jobs, job_id: int, state: dict[str, Any]) -> None:
        self._jobs, self._id, self._state = jobs, job_id, state
        self._last = 0.0

    def file_done(self, result: FileResult) -> None:
        s = self._state
        s["files_done"] += 1
        if result.status in ("added", "updated"):
            s["chunks_total"] += result.chunks
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

    def embedded(self, count: int) -> None:
        self._state["chunks_embedded"] += count
        self._save()

    def _save(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last > 0.5:
            self._last = now
            self._jobs.save_progress(self._id, self._state)


def progress_of(state: dict[str, Any]) -> float:
    """0..1 from files parsed (first half) and chunks embedded (second half)."""
    files = max(int(state.get("files_total", 0)), 1)
    parsed = min(int(state.get("files_done", 0)) / files, 1.0)
    chunks = int(state.get("chunks_total", 0))
    embedded = min(int(state.get("chunks_embedded", 0)) / chunks, 1.0) if chunks else parsed
    return round(0.5 * parsed + 0.5 * embedded * parsed, 4)


def url_source(url: str, content_type: str) -> str:
    """The document source of a fetched URL; a fragment names the format when the path has none.

    Parsers are chosen by extension, and ``https://host/page`` has none.
    """
    parts = urlsplit(url)
    suffix = PurePosixPath(parts.path).suffix.lower().lstrip(".")
    if suffix in _EXTENSIONS.values() or suffix in ("htm", "markdown", "jsonl", "docx", "xlsx"):
        return urlunsplit((*parts[:4], ""))
    ext = _EXTENSIONS.get(content_type, "html")
    return urlunsplit((*parts[:4], f"zhiku.{ext}"))


class Jobs:
    """Queue (the ``jobs`` table) and the worker thread."""

    def __init__(self, db: Database, services: Workspaces, fetcher: Fetcher) -> None:
        self._db = db
        self._services = services
        self._fetch = fetcher
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- submitting -----------------------------------------------------------------------
    def _insert(self, kind: str, kb: KnowledgeBase, payload: dict[str, Any]) -> int:
        with self._db.write() as conn:
            return self._insert_in(conn, kind, kb, payload)

    def _insert_in(self, conn: Any, kind: str, kb: KnowledgeBase, payload: dict[str, Any]) -> int:
        state = {
            "workspace_id": kb.workspace_id,
            "kb": kb.name,
            "files_total": 0,
            "files_done": 0,
            "chunks_total": 0,
            "chunks_embedded": 0,
            "results": [],
            **payload,
        }
        cur = conn.execute(
            "INSERT INTO jobs (kind, kb_id, payload, status) VALUES (?, ?, ?, 'queued')",
            (KIND_PREFIX + kind, kb.id, json.dumps(state, ensure_ascii=False)),
        )
        job_id = int(cur.lastrowid or 0)
        self._wake.set()
        return job_id

    def submit_uploads(
        self, kb: KnowledgeBase, uploads: list[Upload], metadata: dict[str, Any]
    ) -> int:
        """Store the files and queue their ingestion, in one transaction."""
        with self._db.write() as conn:
            items = [
                {
                    "source": up.filename,
                    "sha256": originals.put(conn, up.data, up.content_type),
                    "metadata": metadata,
                }
                for up in uploads
            ]
            return self._insert_in(
                conn, "ingest", kb, {"items": items, "files_total": len(items)}
            )

    def submit_url(self, kb: KnowledgeBase, url: str, metadata: dict[str, Any]) -> int:
        """Queue fetching and ingesting a URL."""
        return self._insert("url", kb, {"url": url, "metadata": metadata, "files_total": 1})

    def submit_reindex(self, kb: KnowledgeBase, source: str, sha: str, meta: dict[str, Any]) -> int:
        """Queue re-parsing a document from its stored original."""
        item = {"source": source, "sha256": sha, "metadata": meta}
        return self._insert("reindex", kb, {"items": [item], "files_total": 1})

    def submit_embed(self, kb: KnowledgeBase) -> int:
        """Queue embedding chunks that lack vectors (after an edit)."""
        return self._insert("embed", kb, {})

    def submit_graph(self, kb: KnowledgeBase, communities: bool = True) -> int:
        """Queue a knowledge-graph build (rules extractor) for the chunks not yet extracted."""
        return self._insert("graph", kb, {"communities": communities})

    # -- reading --------------------------------------------------------------------------
    def get(self, workspace_id: int, job_id: int) -> Job:
        """A job of the workspace, or ``NotFound``."""
        row = self._db.conn.execute(
            "SELECT * FROM jobs WHERE id = ? AND kind LIKE 'api\\_%' ESCAPE '\\'", (job_id,)
        ).fetchone()
        job = None if row is None else _job(row)
        if job is None or job.payload.get("workspace_id") != workspace_id:
            raise NotFound(f"job {job_id} does not exist")
        return job

    def list(self, kb_id: int, limit: int = 50) -> list[Job]:
        """Recent API jobs of a knowledge base, newest first."""
        rows = self._db.conn.execute(
            "SELECT * FROM jobs WHERE kb_id = ? AND kind LIKE 'api\\_%' ESCAPE '\\' "
            "ORDER BY id DESC LIMIT ?",
            (kb_id, limit),
        )
        return [_job(r) for r in rows]

    def save_progress(self, job_id: int, state: dict[str, Any]) -> None:
        """Persist a running job's state."""
        with self._db.write() as conn:
            conn.execute(
                f"UPDATE jobs SET payload = ?, progress = ?, updated_at = {_NOW} WHERE id = ?",
                (json.dumps(state, ensure_ascii=False), progress_of(state), job_id),
            )

    def counts(self) -> dict[str, int]:
        """How many API jobs are in each status."""
        out = {"queued": 0, "running": 0, "done": 0, "failed": 0}
        rows = self._db.conn.execute(
            "SELECT status, count(*) FROM jobs WHERE kind LIKE 'api\\_%' ESCAPE '\\' "
            "GROUP BY status"
        )
        out.update({r[0]: int(r[1]) for r in rows})
        return out

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # -- the worker -----------------------------------------------------------------------
    def start(self) -> None:
        """Requeue jobs orphaned by a dead process and start the worker thread."""
        self.requeue_orphans()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="zhiku-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to stop after its current job and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def requeue_orphans(self) -> int:
        """Queue again the running jobs whose owning process on this host is gone."""
        rows = self._db.conn.execute(
            "SELECT id, payload FROM jobs WHERE status = 'running' "
            "AND kind LIKE 'api\\_%' ESCAPE '\\'"
        ).fetchall()
        orphans = [r["id"] for r in rows if not _alive(json.loads(r["payload"]).get("owner"))]
        with self._db.write() as conn:
            for job_id in orphans:
                conn.execute("UPDATE jobs SET status = 'queued' WHERE id = ?", (job_id,))
        if orphans:
            self._wake.set()
        return len(orphans)

    def _loop(self) -> None:
        last_sweep = time.monotonic()
        while not self._stop.is_set():
            claimed = self._claim()
            if claimed is None:
                self._wake.wait(1.0)
                self._wake.clear()
                if time.monotonic() - last_sweep > 30:
                    last_sweep = time.monotonic()
                    self.requeue_orphans()
                continue
            self._run(claimed)

    def _claim(self) -> Job | None:
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT * FROM jobs WHERE status = 'queued' AND kind LIKE 'api\\_%' ESCAPE '\\' "
                "ORDER BY id LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            job = _job(row)
            job.payload["owner"] = _OWNER
            conn.execute(
                f"UPDATE jobs SET status = 'running', attempts = attempts + 1, payload = ?, "
                f"updated_at = {_NOW} WHERE id = ?",
                (json.dumps(job.payload, ensure_ascii=False), job.id),
            )
            return job

    def _run(self, job: Job) -> None:
        state = job.payload
        state.update(files_done=0, chunks_total=0, chunks_embedded=0, results=[])
        error: str | None = None
        try:
            if job.kind == KIND_PREFIX + "graph":
                self._build_graph(state)
            else:
                zk = self._services.get(int(state["workspace_id"]))
                listener = _Progress(self, job.id, state)
                report = zk.ingest_items(state["kb"], self._items(job), listener)
                failed = len(report.failed)
                if failed and failed == len(report.files):
                    error = report.failed[0].error if failed == 1 else f"{failed} files failed"
        except ZhikuError as exc:
            error = exc.message
        except Exception as exc:
            log.exception("job %s failed", job.id)
            error = f"internal error ({type(exc).__name__})"
        state["chunks_embedded"] = max(state["chunks_embedded"], state["chunks_total"])
        with self._db.write() as conn:
            conn.execute(
                f"UPDATE jobs SET status = ?, error = ?, progress = 1, payload = ?, "
                f"updated_at = {_NOW} WHERE id = ?",
                (
                    "failed" if error else "done",
                    error,
                    json.dumps(state, ensure_ascii=False),
                    job.id,
                ),
            )

    def _build_graph(self, state: dict[str, Any]) -> None:
        """Run the rules extractor over pending chunks (resumable), then communities."""
        from zhiku.graph import api as graph_api  # the graph is optional for ingestion jobs

        zk = self._services.get(int(state["workspace_id"]))
        report = graph_api.build(zk, state["kb"])
        found = graph_api.communities(zk, state["kb"]) if state.get("communities", True) else None
        state["chunks_total"] = state["chunks_embedded"] = report.chunks
        state["result"] = {"chunks": report.chunks, "seconds": report.seconds,
                           "communities": found, **graph_api.stats(zk, state["kb"])}

    def _items(self, job: Job) -> Iterator[SourceItem]:
        state = job.payload
        kind = job.kind.removeprefix(KIND_PREFIX)
        if kind == "url":
            yield self._fetch_item(job)
            return
        zk = self._services.get(int(state["workspace_id"]))
        for item in state.get("items", []):
            if kind == "reindex":
                with contextlib.suppress(NotFound):
                    zk.delete_document(state["kb"], item["source"])
            data = originals.get(self._db, item["sha256"]).data
            yield SourceItem(item["source"], data=data, metadata=dict(item.get("metadata") or {}))

    def _fetch_item(self, job: Job) -> SourceItem:
        state = job.payload
        data, ctype, final = self._fetch(state["url"])
        with self._db.write() as conn:
            originals.put(conn, data, ctype)
        meta = {"url": state["url"], **dict(state.get("metadata") or {})}
        return SourceItem(url_source(final, ctype), data=data, metadata=meta)


def _alive(owner: object) -> bool:
    if not isinstance(owner, str) or ":" not in owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != os.uname().nodename or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _job(row: Any) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        kb_id=row["kb_id"],
        status=row["status"],
        progress=row["progress"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        payload=json.loads(row["payload"]),
    )
