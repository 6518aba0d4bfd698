"""The API's background jobs: submitted in the same transaction as what they work on, run by
worker threads inside ``zhiku serve`` (the embedded default) or by separate ``zhiku worker``
processes (server mode; ``ZHIKU_API_RUN_JOBS=false`` on the servers).

An upload stores the original bytes and its queued job in one transaction, so no upload is
acknowledged without its job; what the jobs do is in ``job_handler``, the queue in
``zhiku.jobs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zhiku.api import originals
from zhiku.api.job_handler import KIND_PREFIX, ApiJobHandler, Fetcher
from zhiku.core.errors import Conflict, NotFound
from zhiku.jobs import Job, JobQueue, QueueOptions, Runner
from zhiku.store.db import Connection, Database
from zhiku.store.records import KnowledgeBase

if TYPE_CHECKING:
    from zhiku.runtime import Runtime

__all__ = ["Job", "Jobs", "Upload"]


@dataclass(slots=True)
class Upload:
    """One uploaded file."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


class Jobs:
    """Submit, read and retry the API's jobs; optionally run them in this process."""

    def __init__(
        self,
        db: Database,
        services: Runtime,
        fetcher: Fetcher,
        options: QueueOptions | None = None,
    ) -> None:
        self._db = db
        self.queue = JobQueue(db, KIND_PREFIX, options)
        self.handler = ApiJobHandler(db, services, fetcher)
        self._runner: Runner | None = None

    # -- submitting -----------------------------------------------------------------------
    def _enqueue(self, conn: Connection, kind: str, kb: KnowledgeBase,
                 payload: dict[str, Any]) -> int:
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
        return self.queue.enqueue(conn, kind, kb.id, state)

    def _submit(self, kind: str, kb: KnowledgeBase, payload: dict[str, Any]) -> int:
        with self._db.write() as conn:
            job_id = self._enqueue(conn, kind, kb, payload)
        self._wake()
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
            job_id = self._enqueue(
                conn, "ingest", kb, {"items": items, "files_total": len(items)}
            )
        self._wake()
        return job_id

    def submit_url(self, kb: KnowledgeBase, url: str, metadata: dict[str, Any]) -> int:
        """Queue fetching and ingesting a URL."""
        return self._submit("url", kb, {"url": url, "metadata": metadata, "files_total": 1})

    def submit_reindex(self, kb: KnowledgeBase, source: str, sha: str, meta: dict[str, Any]) -> int:
        """Queue re-parsing a document from its stored original."""
        item = {"source": source, "sha256": sha, "metadata": meta}
        return self._submit("reindex", kb, {"items": [item], "files_total": 1})

    def submit_embed(self, kb: KnowledgeBase) -> int:
        """Queue embedding chunks that lack vectors (after an edit)."""
        return self._submit("embed", kb, {})

    def submit_graph(self, kb: KnowledgeBase, communities: bool = True) -> int:
        """Queue a knowledge-graph build (rules extractor) for the chunks not yet extracted."""
        return self._submit("graph", kb, {"communities": communities})

    # -- reading and administering --------------------------------------------------------
    def get(self, workspace_id: int, job_id: int) -> Job:
        """A job of the workspace, or ``NotFound``."""
        job = self.queue.get(job_id)
        if job is None or job.payload.get("workspace_id") != workspace_id:
            raise NotFound(f"job {job_id} does not exist")
        return job

    def list_workspace(self, workspace_id: int, status: str | None = None,
                       limit: int = 50) -> list[Job]:
        """Recent jobs of every knowledge base of a workspace, newest first."""
        return self.queue.list(workspace_id=workspace_id, status=status, limit=limit)

    def list(self, kb_id: int, limit: int = 50, status: str | None = None) -> list[Job]:
        """Recent jobs of a knowledge base, newest first, optionally in one status."""
        return self.queue.list(kb_id=kb_id, status=status, limit=limit)

    def retry(self, workspace_id: int, job_id: int) -> Job:
        """Queue a failed or dead job again; ``Conflict`` for a job in any other state."""
        job = self.get(workspace_id, job_id)
        queued = self.queue.retry(job.id)
        if queued is None:
            raise Conflict(f"job {job_id} is {job.status}; only failed or dead jobs are retried")
        self._wake()
        return queued  # as the retry left it: a worker may already have claimed it

    def counts(self) -> dict[str, int]:
        """How many API jobs are in each status."""
        return self.queue.counts()

    # -- running in this process ----------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether this process's worker threads are alive."""
        return self._runner is not None and self._runner.running

    @property
    def healthy(self) -> bool:
        """True unless this process should run jobs and its worker has stopped."""
        return self._runner is None or self._runner.running

    def start(self, concurrency: int = 1, label: str = "serve") -> Runner:
        """Requeue jobs orphaned by dead workers and start worker threads here."""
        self._runner = Runner(self.queue, self.handler, concurrency=concurrency, label=label)
        self._runner.start()
        return self._runner

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the worker threads; running jobs hand the rest of their work back."""
        if self._runner is None:
            return True
        stopped = self._runner.stop(timeout)
        self._runner = None
        return stopped

    def _wake(self) -> None:
        if self._runner is not None:
            self._runner.wake()
