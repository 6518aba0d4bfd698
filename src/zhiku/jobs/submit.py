"""The job operations of one workspace (``Zhiku.jobs``): queue ingestion of uploaded files and
URLs, re-indexing, embedding, graph builds and eval runs; read, cancel and retry the workspace's
jobs.

A job is queued in the same transaction as what it works on (an upload's original bytes, an eval
run's row), so nothing is acknowledged without its job. Jobs run in worker threads inside
``zhiku serve`` or in ``zhiku worker`` processes (``zhiku.jobs.process``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zhiku.core.errors import Conflict, NotFound
from zhiku.core.settings import mask_url_password
from zhiku.ingest import originals
from zhiku.ingest.fetch import UrlPolicy, check_url
from zhiku.jobs.queue import Job, JobQueue, QueueOptions
from zhiku.permissions.context import current_reader
from zhiku.store.db import Connection, Database
from zhiku.store.records import Document, KnowledgeBase

if TYPE_CHECKING:
    from zhiku.evals.runs import RunOptions
    from zhiku.retrieval.search import Mode
    from zhiku.service import Zhiku

__all__ = ["Upload", "WorkspaceJobs"]


@dataclass(slots=True)
class Upload:
    """One uploaded file."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


class WorkspaceJobs:
    """Submit, read, cancel and retry the background jobs of one workspace."""

    def __init__(self, zk: Zhiku, db: Database, options: QueueOptions | None = None) -> None:
        self._zk = zk
        self._db = db
        self.queue = JobQueue(db, options or QueueOptions.of(zk.settings))
        self.on_queued: Callable[[], None] = _nothing  # wakes this process's worker threads

    # -- submitting -----------------------------------------------------------------------
    def _enqueue(self, conn: Connection, kind: str, kb: KnowledgeBase | None,
                 payload: dict[str, Any]) -> int:
        state = {
            "workspace_id": self._zk.workspace_id,
            "kb": kb.name if kb is not None else "",
            "files_total": 0,
            "files_done": 0,
            "chunks_total": 0,
            "chunks_embedded": 0,
            "results": [],
            **payload,
        }
        return self.queue.enqueue(conn, kind, kb.id if kb is not None else None, state,
                                  self._zk.workspace_id)

    def _submit(self, kind: str, kb: KnowledgeBase, payload: dict[str, Any]) -> Job:
        with self._db.write() as conn:
            job_id = self._enqueue(conn, kind, kb, payload)
        return self._queued(job_id)

    def _queued(self, job_id: int) -> Job:
        self.on_queued()
        return self.get(job_id)

    def submit_uploads(self, kb: str, uploads: Sequence[Upload],
                       metadata: dict[str, Any] | None = None,
                       groups: Sequence[int] | None = None) -> Job:
        """Store the files and queue their ingestion into ``kb``, in one transaction;
        ``groups``: restrict the documents to these group ids from their first write."""
        target = self._zk.kb(kb)
        with self._db.write() as conn:
            items = [
                {
                    "source": up.filename,
                    "sha256": originals.put(conn, up.data, up.content_type),
                    "metadata": metadata or {},
                    "groups": None if groups is None else list(groups),
                }
                for up in uploads
            ]
            job_id = self._enqueue(
                conn, "ingest", target, {"items": items, "files_total": len(items)}
            )
        self._zk.audit("document.upload", "kb", target.id, target.name,
                       detail={"files": [up.filename for up in uploads][:100],
                               "count": len(uploads), "job": job_id})
        return self._queued(job_id)

    def submit_url(self, kb: str, url: str, metadata: dict[str, Any] | None = None) -> Job:
        """Queue fetching and ingesting ``url``. An internal address is refused now, unless the
        allow-list permits it (and every hop is checked again when it is fetched)."""
        target = self._zk.kb(kb)
        check_url(url, UrlPolicy(self._zk.settings.api_url_allowlist))
        job = self._submit("url", target, {"url": url, "metadata": metadata or {},
                                           "files_total": 1})
        self._zk.audit("document.upload", "kb", target.id, target.name,
                       detail={"url": mask_url_password(url), "job": job.id})
        return job

    def submit_reindex(self, kb: str, ref: int | str) -> Job:
        """Queue parsing a document again from its stored original (``NotFound`` when none is
        stored)."""
        doc = self._zk.document(kb, ref)
        originals.get(self._db, doc.content_hash)
        item = self._reindex_item(doc)
        job = self._submit("reindex", self._zk.kb(kb), {"items": [item], "files_total": 1})
        self._zk.audit("document.reindex", "document", doc.id, doc.source,
                       detail={"kb": kb, "job": job.id})
        return job

    def submit_reindex_documents(self, kb: str, docs: Sequence[Document]) -> Job:
        """Queue parsing several documents again from their stored originals, as one job
        (``NotFound`` when one has none stored)."""
        have = originals.stored(self._db, [d.content_hash for d in docs])
        if any(d.content_hash not in have for d in docs):
            raise NotFound("a document's original file is not stored")
        items = [self._reindex_item(d) for d in docs]
        return self._submit("reindex", self._zk.kb(kb), {"items": items,
                                                         "files_total": len(items)})

    def _reindex_item(self, doc: Document) -> dict[str, Any]:
        """What re-parsing ``doc`` needs, its restriction included: the document is written
        anew, and must not be readable by others for a moment."""
        groups = self._zk.store.document_groups([doc.id]).get(doc.id, []) \
            if doc.restricted else None
        return {"source": doc.source, "sha256": doc.content_hash, "metadata": doc.metadata,
                "groups": groups}

    def submit_embed(self, kb: str) -> Job:
        """Queue embedding the chunks of ``kb`` that lack vectors (after an edit)."""
        return self._submit("embed", self._zk.kb(kb), {})

    def submit_graph(self, kb: str, communities: bool = True) -> Job:
        """Queue a knowledge-graph build (rules extractor) for the chunks not yet extracted."""
        return self._submit("graph", self._zk.kb(kb), {"communities": communities})

    def submit_eval(self, set_name: str, kind: str, name: str, mode: Mode = "hybrid",
                    options: RunOptions | None = None) -> int:
        """Store an eval run of ``set_name`` against the ``kind`` (``kb`` or ``app``) target
        ``name`` and queue its execution, in one transaction; returns the run's id. A bad
        target, set or selection is refused here."""
        from zhiku.evals import runs
        target = self._zk.eval_target(kind, name, mode)
        planned = runs.new_run(self._zk.evals, target.name, set_name, options)
        kb = self._zk.kb(name) if kind == "kb" else None
        reader = current_reader()  # the run reads what its starter reads
        with self._db.write() as conn:
            run_id = runs.create_run(conn, self._zk.workspace_id, planned)
            self._enqueue(conn, "eval", kb, {
                "run_id": run_id, "set": set_name,
                "target": {"kind": kind, "name": name, "mode": mode},
                "reader": None if reader.groups is None else sorted(reader.groups),
            })
        self.on_queued()
        return run_id

    # -- reading and administering --------------------------------------------------------
    def get(self, job_id: int) -> Job:
        """A job of this workspace, or ``NotFound``."""
        job = self.queue.get(job_id)
        if job is None or job.payload.get("workspace_id") != self._zk.workspace_id:
            raise NotFound(f"job {job_id} does not exist")
        return job

    def list(self, kb: str | None = None, status: str | None = None,
             limit: int = 50) -> list[Job]:
        """Recent jobs of a knowledge base, or of every knowledge base of the workspace, newest
        first, optionally in one status."""
        if kb is not None:
            return self.queue.list(kb_id=self._zk.kb(kb).id, status=status, limit=limit)
        return self.queue.list(workspace_id=self._zk.workspace_id, status=status, limit=limit)

    def retry(self, job_id: int) -> Job:
        """Queue a failed or dead job again; ``Conflict`` for a job in any other state."""
        job = self.get(job_id)
        queued = self.queue.retry(job.id)
        if queued is None:
            raise Conflict(f"job {job_id} is {job.status}; only failed or dead jobs are retried")
        self.on_queued()
        return queued  # as the retry left it: a worker may already have claimed it

    def cancel(self, job_id: int) -> Job:
        """Stop a queued or running job for good (it ends ``failed``, error ``cancelled``);
        ``Conflict`` for a job that has ended. A cancelled eval or sync run is marked failed."""
        job = self.get(job_id)
        cancelled = self.queue.cancel(job.id)
        if cancelled is None:
            raise Conflict(f"job {job_id} is {job.status}; only queued or running jobs are "
                           "cancelled")
        if cancelled.kind == "eval":
            from zhiku.evals import runs

            runs.fail_run(self._zk.evals, int(cancelled.payload["run_id"]), "cancelled")
        if cancelled.kind == "sync":
            self._zk.sources.store.fail_run(int(cancelled.payload["run_id"]), "cancelled")
        return cancelled


def _nothing() -> None:
    """No worker threads in this process to wake (other processes poll or listen)."""
