"""What the API's background jobs do: ingest uploads, fetch and ingest URLs, re-index a document
from its stored original, embed edited chunks, build the knowledge graph.

Running a job again is safe: the pipeline skips files whose content hash it already holds,
first embeds the chunks of documents an earlier try left ``parsed``, and replaces a changed
document in one transaction; the ``documents (kb_id, source)`` key keeps one document per source.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from zhiku.api import originals, ssrf
from zhiku.core.errors import NotFound
from zhiku.core.settings import Settings
from zhiku.ingest.events import FileResult
from zhiku.ingest.pipeline import SourceItem
from zhiku.jobs import Control, Job, Outcome
from zhiku.store.db import Database

if TYPE_CHECKING:
    from zhiku.runtime import Runtime

KIND_PREFIX = "api_"
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


def url_fetcher(settings: Settings) -> Fetcher:
    """The SSRF-guarded fetcher ``settings`` configure."""
    policy = ssrf.UrlPolicy(settings.api_url_allowlist)

    def fetch(url: str) -> tuple[bytes, str, str]:
        got = ssrf.fetch(
            url,
            policy,
            max_bytes=settings.max_file_bytes,
            max_redirects=settings.api_url_max_redirects,
            timeout=settings.api_url_timeout,
            deadline=settings.api_url_deadline,
        )
        return got.data, got.content_type, got.url

    return fetch


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


class ApiJobHandler:
    """Runs one API job through the workspace's facade (a ``jobs.Handler``)."""

    def __init__(self, db: Database, services: Runtime, fetcher: Fetcher) -> None:
        self._db = db
        self._services = services
        self._fetch = fetcher

    def __call__(self, job: Job, control: Control) -> Outcome:
        state = job.payload
        state.update(files_done=0, chunks_total=0, chunks_embedded=0, results=[])
        error: str | None = None
        if job.kind == KIND_PREFIX + "graph":
            self._build_graph(state)
        else:
            zk = self._services.workspace(int(state["workspace_id"]))
            # A first try embeds its own files only; a retry, or an embed job, also embeds what
            # earlier runs left parsed (another worker may be embedding those right now).
            first = job.attempts <= 1 and job.kind != KIND_PREFIX + "embed"
            report = zk.ingest_items(state["kb"], self._items(job), _Progress(control, state),
                                     sweep="none" if first else "parsed")
            failed = len(report.failed)
            if failed and failed == len(report.files):
                error = report.failed[0].error if failed == 1 else f"{failed} files failed"
        state["chunks_embedded"] = max(state["chunks_embedded"], state["chunks_total"])
        return Outcome(state, error)

    def _build_graph(self, state: dict[str, Any]) -> None:
        """Run the rules extractor over pending chunks (resumable), then communities."""
        from zhiku.graph import api as graph_api  # the graph is optional for ingestion jobs

        zk = self._services.workspace(int(state["workspace_id"]))
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
        zk = self._services.workspace(int(state["workspace_id"]))
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
