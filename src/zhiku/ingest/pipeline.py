"""The ingestion pipeline: read → hash → parse → chunk → write (keyword-searchable) → embed.

Documents are written in small groups, each in one transaction, so a crash leaves every
document either fully written or absent. Re-running is idempotent: unchanged files (same content
hash) are skipped and chunks still missing vectors — after a crash, or a change of embedder —
are embedded first.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Literal, Protocol

from zhiku.core.errors import PayloadTooLarge, ZhikuError
from zhiku.core.heap import release_free_memory
from zhiku.ingest.chunking import ChunkingOptions, chunk_document
from zhiku.ingest.embedding import EmbedItem, EmbedStage
from zhiku.ingest.events import FileResult, IngestListener, IngestReport, NullListener
from zhiku.ingest.parsers.registry import DocumentParser, ParseOptions
from zhiku.models.embedders import Embedder
from zhiku.store.protocols import Store
from zhiku.store.reader import KEEP
from zhiku.store.records import KnowledgeBase, NewChunk
from zhiku.text.indexing import index_text
from zhiku.text.tokenize import analyze, forget_texts


@dataclass(slots=True)
class SourceItem:
    """One thing to ingest: a file on disk or bytes already in memory (an upload).

    ``filename`` names the format and the default title when ``source`` does not (a synced
    web page's source is its URL); by default ``source`` does both."""

    source: str
    path: Path | None = None
    data: bytes | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    filename: str | None = None
    # the groups the document is restricted to from its first write; None keeps a replaced
    # document's restriction (a new one is unrestricted)
    groups: tuple[int, ...] | None = None

    def read(self, limit: int) -> bytes:
        """The content, refusing anything over ``limit`` bytes before reading it."""
        if self.data is not None:
            size = len(self.data)
            data = self.data
        else:
            assert self.path is not None
            size = self.path.stat().st_size
            data = b""
        if size > limit:
            raise PayloadTooLarge(f"file is {size:,} bytes, over the {limit:,}-byte limit")
        if self.path is not None and self.data is None:
            data = self.path.read_bytes()
        return data


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """Per-run knobs, taken from settings and the knowledge base."""

    chunking: ChunkingOptions
    parse: ParseOptions
    max_file_bytes: int
    embed_batch_size: int


class DocumentHook(Protocol):
    """Called after a document's chunks are committed (e.g. knowledge-graph extraction)."""

    def document_written(self, kb: KnowledgeBase, document_id: int) -> None:
        """React to a new or replaced document; its chunks are in the store."""


# What a run embeds besides its own files before it starts: chunks of documents left
# ``parsed`` (a run that crashed, edited chunks), every chunk without a vector of the embedder
# (a new embedder), or nothing (a first try of a queued upload: another worker may be embedding
# the parsed documents this moment, and sweeping would embed them twice).
Sweep = Literal["parsed", "all", "none"]


class Pipeline:
    """Ingests sources into one knowledge base."""

    def __init__(
        self,
        store: Store,
        registry: DocumentParser,
        embedder: Embedder,
        options: PipelineOptions,
        hooks: Sequence[DocumentHook] = (),
        limits: GroupLimits | None = None,
    ) -> None:
        self._limits = limits or GroupLimits()
        self._store = store
        self._registry = registry
        self._embedder = embedder
        self._options = options
        self._hooks = tuple(hooks)

    def run(
        self,
        kb: KnowledgeBase,
        items: Iterable[SourceItem],
        listener: IngestListener | None = None,
        *,
        sweep: Sweep = "parsed",
    ) -> IngestReport:
        """Ingest every item; failures are reported per file and never stop the others. First
        embeds what ``sweep`` names.

        Parsed documents are written in groups (``GroupLimits``), each group in one
        transaction: a document is still whole or absent after a crash, and keyword-searchable
        once its group commits."""
        listen = listener or NullListener()
        report = IngestReport()
        started = time.perf_counter()
        stage = EmbedStage(
            self._store,
            kb.id,
            self._embedder,
            self._options.embed_batch_size,
            listen.embedded,
            on_queued=listen.queued,
        )
        stage.start()
        group = _Group()

        def flush() -> None:
            nonlocal group
            ready, group = group, _Group()
            for result, entry in self._write_group(kb, ready.entries):
                if entry is not None and result.document_id is not None:
                    stage.put(EmbedItem(result.document_id, entry.chunk_ids, entry.texts))
                    for hook in self._hooks:
                        hook.document_written(kb, result.document_id)
                report.files.append(result)
                listen.file_done(result)

        try:
            if sweep != "none":
                self._resume(kb, stage, parsed_only=sweep == "parsed")
            for item in items:
                if item.source in group.sources:
                    flush()  # the same source again: its first version is written first
                group.add(self._prepare(kb, item, stage, heal=sweep == "none"))
                if group.full(self._limits):
                    flush()
            flush()
        finally:
            stage.close()
            forget_texts()
            release_free_memory()  # a server stays at its idle size after a batch, not its peak
        report.chunks_embedded = stage.embedded
        report.seconds = time.perf_counter() - started
        return report

    def _resume(self, kb: KnowledgeBase, stage: EmbedStage, *, parsed_only: bool) -> None:
        """Queue chunks written earlier but never embedded (a crash, a new embedder), and mark
        ready the documents whose vectors were all stored by a run killed just before it could
        say so (those have nothing left to embed, so the embedding stage would never mark them).
        """
        parsed = self._store.list_documents(kb.id, status="parsed")
        if parsed:
            self._store.mark_ready([d.id for d in parsed], self._embedder.model_id)
        after = 0
        while True:
            missing = self._store.chunks_missing_vectors(
                kb.id, self._embedder.model_id, after_id=after, limit=2000,
                parsed_only=parsed_only,
            )
            if not missing:
                return
            after = missing[-1][0]
            by_doc: dict[int, EmbedItem] = {}
            for cid, doc_id, text in missing:
                item = by_doc.setdefault(doc_id, EmbedItem(doc_id, [], []))
                item.chunk_ids.append(cid)
                item.texts.append(text)
            for item in by_doc.values():
                stage.put(item)

    def _embed_missing(self, kb: KnowledgeBase, doc_id: int, stage: EmbedStage) -> None:
        """Queue the chunks of one document that lack a vector (or mark it ready: none do)."""
        model = self._embedder.model_id
        after = 0
        found = False
        while missing := self._store.chunks_missing_vectors(
            kb.id, model, after_id=after, limit=2000, document_id=doc_id
        ):
            after = missing[-1][0]
            found = True
            stage.put(EmbedItem(doc_id, [c for c, _, _ in missing], [t for _, _, t in missing]))
        if not found:
            self._store.mark_ready([doc_id], model)

    def _prepare(
        self, kb: KnowledgeBase, item: SourceItem, stage: EmbedStage, *, heal: bool
    ) -> FileResult | _Parsed:
        """Read, parse and chunk one file: what to write, or its result when there is nothing
        to write (unchanged, or failed); ``heal`` embeds an unchanged document an earlier run
        left ``parsed`` (when no sweep did already)."""
        name = item.filename or item.source
        fmt = PurePath(name).suffix.lower().lstrip(".")
        data = b""
        digest = ""
        try:
            data = item.read(self._options.max_file_bytes)
            digest = hashlib.sha256(data).hexdigest()
            existing = self._store.find_document(kb.id, item.source)
            if (
                existing is not None
                and existing.content_hash == digest
                and existing.status != "error"
            ):
                if heal and existing.status == "parsed":  # an earlier run stopped before embedding
                    self._embed_missing(kb, existing.id, stage)
                if item.groups is not None:  # same text, new readers
                    self._store.set_document_groups([existing.id], list(item.groups))
                return FileResult(item.source, "unchanged", existing.chunk_count, existing.id)
            parsed = self._registry.parse(data, filename=name, options=self._options.parse)
            drafts = chunk_document(parsed, self._options.chunking)
            indexed = [index_text(d.heading_path, d.text) if d.searchable else "" for d in drafts]
            chunks = [
                NewChunk(
                    text=d.text,
                    ord=n,
                    heading_path=d.heading_path,
                    page=d.page,
                    token_count=d.tokens,
                    terms=analyze(indexed[n]) if d.searchable else [],
                    searchable=d.searchable,
                    parent=d.parent,
                    metadata=dict(d.metadata),
                )
                for n, d in enumerate(drafts)
            ]
        except (ZhikuError, OSError) as exc:
            return self._failed(kb, item.source, digest, fmt, len(data), exc)
        return _Parsed(
            source=item.source,
            title=parsed.title or PurePath(name).name,
            content_hash=digest,
            fmt=fmt,
            size_bytes=len(data),
            metadata={**parsed.meta, **item.metadata},
            chunks=chunks,
            texts=[text for text, c in zip(indexed, chunks, strict=True) if c.searchable],
            replaces=existing is not None and existing.status != "error",
            groups=KEEP if item.groups is None else list(item.groups),
        )

    def _failed(
        self, kb: KnowledgeBase, source: str, digest: str, fmt: str, size: int, exc: Exception
    ) -> FileResult:
        """Record a file's failure and say so."""
        message = exc.message if isinstance(exc, ZhikuError) else f"cannot read file: {exc}"
        self._store.record_failure(
            kb.id, source=source, content_hash=digest, fmt=fmt, size_bytes=size, error=message
        )
        return FileResult(source, "failed", error=message)

    def _write_group(
        self, kb: KnowledgeBase, entries: list[FileResult | _Parsed]
    ) -> list[tuple[FileResult, _Parsed | None]]:
        """Write a group's documents in one transaction (one by one if that fails, so a bad
        document fails alone); each item's result, in item order, with what was written."""
        parsed = [e for e in entries if isinstance(e, _Parsed)]
        written: dict[int, FileResult] = {}
        try:
            with self._store.write_group():
                for entry in parsed:
                    written[id(entry)] = self._write(kb, entry)
        except (ZhikuError, OSError):
            written = {}
            for entry in parsed:
                try:
                    written[id(entry)] = self._write(kb, entry)
                except (ZhikuError, OSError) as exc:
                    written[id(entry)] = self._failed(
                        kb, entry.source, entry.content_hash, entry.fmt, entry.size_bytes, exc
                    )
        results: list[tuple[FileResult, _Parsed | None]] = []
        for item in entries:
            if isinstance(item, FileResult):
                results.append((item, None))
            else:
                result = written[id(item)]
                results.append((result, None if result.status == "failed" else item))
        return results

    def _write(self, kb: KnowledgeBase, entry: _Parsed) -> FileResult:
        """Write one parsed document (joining the group's transaction when there is one)."""
        doc, entry.chunk_ids = self._store.replace_document(
            kb.id,
            source=entry.source,
            title=entry.title,
            content_hash=entry.content_hash,
            fmt=entry.fmt,
            size_bytes=entry.size_bytes,
            metadata=entry.metadata,
            chunks=entry.chunks,
            groups=entry.groups,
        )
        status: Literal["added", "updated"] = "updated" if entry.replaces else "added"
        return FileResult(entry.source, status, len(entry.chunk_ids), doc.id)


@dataclass(frozen=True, slots=True)
class GroupLimits:
    """When parsed documents are written: a group is written once it holds ``documents``
    documents or ``chunks`` chunks, or its first document has waited ``seconds`` (so a
    document is keyword-searchable soon after it is taken, whatever the source's pace)."""

    documents: int = 64
    chunks: int = 512
    seconds: float = 0.1


@dataclass(slots=True)
class _Parsed:
    """A parsed document waiting for its group's transaction."""

    source: str
    title: str
    content_hash: str
    fmt: str
    size_bytes: int
    metadata: dict[str, Any]
    chunks: list[NewChunk]
    texts: list[str]
    replaces: bool
    groups: list[int] | str = KEEP  # the readers' groups, or KEEP a replaced one's restriction
    chunk_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Group:
    """Items taken since the last write, in order (results without a write keep their place)."""

    entries: list[FileResult | _Parsed] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    chunks: int = 0
    started: float = 0.0

    def add(self, entry: FileResult | _Parsed) -> None:
        if not self.entries:
            self.started = time.perf_counter()
        self.entries.append(entry)
        self.sources.add(entry.source)
        if isinstance(entry, _Parsed):
            self.chunks += len(entry.chunks)

    def full(self, limits: GroupLimits) -> bool:
        return (
            len(self.entries) >= limits.documents
            or self.chunks >= limits.chunks
            or time.perf_counter() - self.started >= limits.seconds
        )
