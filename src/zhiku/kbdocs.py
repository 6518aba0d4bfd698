"""A knowledge base's documents at scale (``Zhiku.kbdocs``): pages of them filtered, searched
and sorted with a total count, and actions over many at once (delete, re-index, tag).

Each document of a batch is handled in its own transaction and reported on its own: one that
fails (gone, no stored original) leaves the others done. Re-indexing many documents queues one
job for all of them, so its progress is followed like any other job's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from zhiku.core.errors import InvalidInput, NotFound, ZhikuError
from zhiku.ingest import originals
from zhiku.permissions.context import current_reader
from zhiku.store.doc_query import DocumentQuery
from zhiku.store.records import Document

if TYPE_CHECKING:
    from zhiku.jobs.queue import Job
    from zhiku.service import Zhiku

BatchAction = Literal["delete", "reindex", "tag"]
MAX_BATCH = 1000


@dataclass(slots=True)
class DocumentPage:
    """Some documents of a knowledge base, and how many match the query in all."""

    documents: list[Document]
    total: int


@dataclass(slots=True)
class ItemResult:
    """What a batch did to one document: ``ok``, or the error's kind and message."""

    id: int
    ok: bool
    error: str | None = None
    error_type: str | None = None


@dataclass(slots=True)
class BatchOutcome:
    """Per-document results, in the order asked, and the re-index job (if one was queued)."""

    results: list[ItemResult] = field(default_factory=list)
    job: Job | None = None


class KbDocuments:
    """Paging and batch actions over the documents of one workspace's knowledge bases."""

    def __init__(self, zk: Zhiku) -> None:
        self._zk = zk

    def page(self, kb: str, query: DocumentQuery) -> DocumentPage:
        """Documents of ``kb`` matching ``query`` that the current reader may read, in its
        order and window."""
        if query.limit is not None and query.limit < 1:
            raise InvalidInput("limit is at least 1")
        if query.offset < 0:
            raise InvalidInput("offset is at least 0")
        docs, total = self._zk.store.query_documents(self._zk.kb(kb).id, query,
                                                     current_reader())
        return DocumentPage(docs, total)

    def batch(
        self,
        kb: str,
        action: BatchAction,
        ids: Sequence[int],
        *,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
    ) -> BatchOutcome:
        """Delete, re-index or tag the documents ``ids`` of ``kb``, each on its own."""
        if not ids:
            raise InvalidInput("name at least one document")
        if len(ids) > MAX_BATCH:
            raise InvalidInput(f"at most {MAX_BATCH} documents per batch")
        if action == "tag" and not (add_tags or remove_tags):
            raise InvalidInput("tagging needs tags to add or to remove")
        if action not in ("delete", "reindex", "tag"):
            raise InvalidInput(f"unknown batch action '{action}'")
        self._zk.kb(kb)  # an unknown knowledge base fails the whole batch
        unique = list(dict.fromkeys(ids))
        if action == "reindex":
            return self._reindex(kb, unique)
        outcome = BatchOutcome()
        for doc_id in unique:
            outcome.results.append(self._one(kb, action, doc_id, add_tags, remove_tags))
        return outcome

    def reindex_all(self, kb: str) -> BatchOutcome:
        """Re-index every document of ``kb`` that has its original stored, as one job."""
        return self._reindex(kb, [d.id for d in self._zk.documents(kb)])

    def switch_embedder(self, kb: str, embedder: str) -> Job | None:
        """Give ``kb`` another embedder. Its documents are embedded again in the background
        (the returned job; None when there is nothing to embed); until then they are
        ``parsed`` and found by keywords, and the old model's vectors are gone."""
        target = self._zk.kb(kb)
        if embedder == target.embedder:
            return None
        old = self._zk.embedder(target.embedder).model_id
        new = self._zk.embedder(embedder).model_id  # an unknown or missing model fails here
        self._zk.store.switch_embedder(target.id, embedder)
        if old != new:
            self._zk.store.drop_vectors(target.id, old)
        self._zk.vectors.invalidate()
        if not self._zk.store.kb_stats(target.id).get("chunks"):
            return None
        return self._zk.jobs.submit_embed(kb)

    def _one(self, kb: str, action: BatchAction, doc_id: int,
             add_tags: Sequence[str], remove_tags: Sequence[str]) -> ItemResult:
        try:
            if action == "delete":
                self._zk.delete_document(kb, doc_id)
            else:
                doc = self._zk.document(kb, doc_id)
                self._zk.set_document_metadata(
                    kb, doc.id, tags=retagged(doc, add_tags, remove_tags))
        except ZhikuError as exc:
            return ItemResult(doc_id, False, exc.message, exc.kind)
        return ItemResult(doc_id, True)

    def _reindex(self, kb: str, ids: Sequence[int]) -> BatchOutcome:
        outcome = BatchOutcome()
        found: dict[int, Document] = {}
        for doc_id in ids:
            try:
                found[doc_id] = self._zk.document(kb, doc_id)
            except NotFound as exc:
                outcome.results.append(ItemResult(doc_id, False, exc.message, exc.kind))
        have = originals.stored(self._zk.db, [d.content_hash for d in found.values()])
        chosen = [d for d in found.values() if d.content_hash in have]
        for doc in found.values():
            if doc.content_hash in have:
                outcome.results.append(ItemResult(doc.id, True))
            else:
                outcome.results.append(ItemResult(
                    doc.id, False, "this document's original file is not stored", "not_found"))
        order = {doc_id: n for n, doc_id in enumerate(ids)}
        outcome.results.sort(key=lambda r: order[r.id])
        if chosen:
            outcome.job = self._zk.jobs.submit_reindex_documents(kb, chosen)
        return outcome


def retagged(doc: Document, add: Sequence[str], remove: Sequence[str]) -> list[str]:
    """``doc``'s tags with ``add`` appended (once each) and ``remove`` taken away."""
    current = doc.metadata.get("tags")
    tags = [str(t) for t in current] if isinstance(current, list) else []
    for tag in add:
        if tag not in tags:
            tags.append(tag)
    gone = set(remove)
    return [t for t in tags if t not in gone]
