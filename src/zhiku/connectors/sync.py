"""One sync run: list the source, ingest what is new or changed, remove what is gone.

An item whose version equals the one recorded for it (with a document and no error) is skipped
without being fetched. New and changed items are fetched and go through the ingestion pipeline,
which replaces a changed document's chunks in one transaction. Each item's outcome is recorded
as soon as it is known, so a run that crashes resumes where it stopped: what it finished is
unchanged next time. An item that cannot be fetched or parsed is an error on the item (kept
for the next run, which tries it again); the run goes on, and its earlier document is kept.

Removals come last and only after a complete listing: a listing that fails removes nothing.
When a run would remove more than ``max_delete_share`` of the source's documents, or the source
lists nothing at all, it removes none and ends ``stopped`` (``allow_deletes`` overrides).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from zhiku.connectors.base import Connector, SourceItem
from zhiku.connectors.store import Counts, ItemState, Source, SourceStore
from zhiku.core.errors import NotFound, SourceError, ZhikuError
from zhiku.ingest.events import FileResult, IngestListener, IngestReport
from zhiku.ingest.pipeline import SourceItem as IngestItem
from zhiku.ingest.pipeline import Sweep


class Library(Protocol):
    """The knowledge base a run writes to."""

    def ingest(self, items: Iterable[IngestItem], listener: IngestListener,
               sweep: Sweep) -> IngestReport:
        """Run the ingestion pipeline over ``items``."""
        ...

    def find(self, source: str) -> int | None:
        """The id of the document with this source, if any."""
        ...

    def remove(self, document_id: int) -> None:
        """Delete a document (``NotFound`` when it is already gone)."""
        ...


Checkpoint = Callable[[Counts], None]
"""Called between items with the counts so far; may raise to stop the run (it resumes)."""


@dataclass(slots=True)
class Outcome:
    """How a run ended: ``done``, ``stopped`` (removals withheld) or ``failed``."""

    status: str
    counts: Counts
    error: str | None = None
    fetched: int = 0  # items fetched and handed to the parser


def document_source(source: Source, item: SourceItem) -> str:
    """What the item's document is called in its knowledge base: the item's URL, or its
    absolute path, when it has one (a citation then points at the original); else
    ``kind:name/id``, which two sources of one knowledge base never share."""
    url = item.metadata.get("url")
    if isinstance(url, str) and url:
        return url
    path = item.metadata.get("path")
    if isinstance(path, str) and path.startswith("/"):
        return path
    return f"{source.kind}:{source.name}/{item.id}"


def _jsonable(metadata: dict[str, Any]) -> dict[str, Any]:
    """A connector's item metadata as JSON values (dates and other objects become text)."""
    loaded: dict[str, Any] = json.loads(json.dumps(metadata, default=str))
    return loaded


class SyncRun:
    """Executes one run of ``source`` over an open connector."""

    def __init__(self, store: SourceStore, library: Library, source: Source,
                 connector: Connector, *, max_item_bytes: int, max_delete_share: float,
                 allow_deletes: bool = False, checkpoint: Checkpoint | None = None) -> None:
        self._store = store
        self._library = library
        self._source = source
        self._connector = connector
        self._max_bytes = max_item_bytes
        self._share = max_delete_share
        self._allow_deletes = allow_deletes
        self._checkpoint = checkpoint or (lambda counts: None)
        self.counts = Counts()
        self._fetched = 0
        self._pending: dict[str, tuple[SourceItem, ItemState | None]] = {}

    def execute(self, sweep: Sweep = "none") -> Outcome:
        """List, ingest, then remove; a listing error fails the run and removes nothing."""
        known = self._store.items(self._source.id)
        listed: set[str] = set()
        try:
            self._library.ingest(self._changed(known, listed), _Listener(self), sweep)
        except ZhikuError as exc:
            return Outcome("failed", self.counts, f"listing the source failed: {exc.message}",
                           self._fetched)
        except OSError as exc:
            return Outcome("failed", self.counts, f"listing the source failed: {exc}",
                           self._fetched)
        return self._remove_gone(known, listed)

    # -- ingesting ------------------------------------------------------------------------
    def _changed(self, known: dict[str, ItemState],
                 listed: set[str]) -> Iterator[IngestItem]:
        """The pipeline items of new and changed source items, fetched one at a time."""
        for item in self._listing():
            if item.id in listed:
                continue
            listed.add(item.id)
            state = known.get(item.id)
            if (state is not None and state.error is None and state.document_id is not None
                    and state.version == item.version):
                self.counts.unchanged += 1
                if self.counts.unchanged % 500 == 0:
                    self._checkpoint(self.counts)
                continue
            self._checkpoint(self.counts)
            fetched = self._fetch(item)
            if fetched is None:
                continue
            name = document_source(self._source, item)
            owner = self._owner(name)
            if owner is not None:
                self._failed(item, f"the document '{name}' belongs to another source ({owner})")
                continue
            self._pending[name] = (item, state)
            self._fetched += 1
            meta = {**_jsonable(item.metadata), "sync_source": self._source.name}
            yield IngestItem(name, data=fetched, filename=item.name, metadata=meta)

    def _listing(self) -> Iterator[SourceItem]:
        """The connector's items; whatever its client raises fails the listing as a
        ``SourceError`` (a connector's own ``ZhikuError`` passes as it is)."""
        items = iter(self._connector.items())
        while True:
            try:
                item = next(items)
            except StopIteration:
                return
            except (ZhikuError, OSError):
                raise
            except Exception as exc:  # a third-party client's error
                raise SourceError(f"{type(exc).__name__}: {exc}") from exc
            yield item

    def _fetch(self, item: SourceItem) -> bytes | None:
        if item.size is not None and item.size > self._max_bytes:
            self._failed(item, f"the item is {item.size:,} bytes, over the "
                               f"{self._max_bytes:,}-byte limit")
            return None
        try:
            data = self._connector.fetch(item)
        except ZhikuError as exc:
            self._failed(item, exc.message)
            return None
        except OSError as exc:
            self._failed(item, f"cannot read the item: {exc}")
            return None
        except Exception as exc:  # a third-party connector's client error: the item's alone
            self._failed(item, f"{type(exc).__name__}: {exc}")
            return None
        if len(data) > self._max_bytes:
            self._failed(item, f"the item is {len(data):,} bytes, over the "
                               f"{self._max_bytes:,}-byte limit")
            return None
        return data

    def _owner(self, name: str) -> int | None:
        """Another source of the knowledge base whose item is the document ``name``."""
        doc_id = self._library.find(name)
        if doc_id is None:
            return None
        owner = self._store.owner_of(doc_id)
        return owner if owner is not None and owner != self._source.id else None

    def _failed(self, item: SourceItem, message: str,
                document_id: int | None = None) -> None:
        self.counts.error(item.id, message)
        self._store.item_failed(self._source.id, item.id, message, document_id)

    def file_done(self, result: FileResult) -> None:
        """The pipeline finished one item: record it against the source."""
        item, state = self._pending.pop(result.source)
        if result.status == "failed":
            self._failed(item, result.error or "the item could not be ingested",
                         self._library.find(result.source))
            return
        if result.status == "added" and state is not None and state.document_id is not None:
            self.counts.updated += 1  # a replaced document the pipeline had marked failed
        elif result.status == "added":
            self.counts.added += 1
        elif result.status == "updated":
            self.counts.updated += 1
        else:
            self.counts.unchanged += 1  # a new version with the same content
        self._store.item_done(self._source.id, item.id, item.version, result.document_id)
        if state is not None and state.document_id not in (None, result.document_id):
            # The item's document name changed with its version (a link naming the commit):
            # the document under the old name is the same item's and goes.
            with contextlib.suppress(NotFound):
                self._library.remove(state.document_id)

    # -- removing -------------------------------------------------------------------------
    def _remove_gone(self, known: dict[str, ItemState], listed: set[str]) -> Outcome:
        gone = [i for i in known if i not in listed]
        with_docs = [i for i in gone if known[i].document_id is not None]
        total = sum(1 for s in known.values() if s.document_id is not None)
        if with_docs and not self._allow_deletes:
            if not listed:
                return Outcome("stopped", self.counts, f"the source listed nothing; its "
                               f"{len(with_docs)} documents were kept (sync with allow_deletes "
                               "to remove them)", self._fetched)
            if len(with_docs) > self._share * total:
                return Outcome("stopped", self.counts, f"the run would remove {len(with_docs)} "
                               f"of {total} documents, over the {self._share:.0%} limit; they "
                               "were kept (sync with allow_deletes to remove them)",
                               self._fetched)
        for item_id in gone:
            doc_id = known[item_id].document_id
            if doc_id is not None:
                with contextlib.suppress(NotFound):  # deleted by hand meanwhile: gone anyway
                    self._library.remove(doc_id)
                self.counts.removed += 1
            self._store.forget_item(self._source.id, item_id)
        return Outcome("done", self.counts, None, self._fetched)


class _Listener:
    """Pipeline events of a run."""

    def __init__(self, run: SyncRun) -> None:
        self._run = run

    def file_done(self, result: FileResult) -> None:
        self._run.file_done(result)

    def queued(self, count: int) -> None:
        """Chunks queued for embedding (not counted by a run)."""

    def embedded(self, count: int) -> None:
        """Chunks embedded (not counted by a run)."""
