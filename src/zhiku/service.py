"""The facade: the one Python API that the CLI, the HTTP API and the console call.

>>> zk = Zhiku(Settings(home=tmp))          # doctest: +SKIP
>>> zk.create_kb("handbook")
>>> zk.ingest("handbook", ["./docs"])
>>> zk.search("handbook", "报销流程需要哪些材料")
>>> zk.ask("handbook", "How many days of leave do new employees get?")
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from zhiku.answer.extractive import ExtractiveAnswerer
from zhiku.answer.types import Answer, Answerer
from zhiku.core.errors import Forbidden, InvalidInput, NotFound
from zhiku.core.settings import Settings
from zhiku.graph.modes import SearchMode, is_graph_mode
from zhiku.ingest.chunking import ChunkingOptions
from zhiku.ingest.events import IngestListener, IngestReport
from zhiku.ingest.parsers.registry import (
    DocumentParser,
    ParseOptions,
    ParserRegistry,
    default_registry,
)
from zhiku.ingest.parsers.sandbox import SUPPORTED as SANDBOX_SUPPORTED
from zhiku.ingest.parsers.zipguard import ZipLimits
from zhiku.ingest.pipeline import GroupLimits, Pipeline, PipelineOptions, SourceItem, Sweep
from zhiku.ingest.sources import expand_paths
from zhiku.kb_language import choose_embedder
from zhiku.kb_settings import check_kb_settings
from zhiku.models.embedders import Embedder
from zhiku.permissions.context import current_reader
from zhiku.retrieval.ann import embedded_vector_index
from zhiku.retrieval.rerank import RerankingSearcher
from zhiku.retrieval.search import HybridSearcher, Mode, SearchParams
from zhiku.retrieval.types import Hit
from zhiku.runtime import Runtime
from zhiku.store.db import Database
from zhiku.store.filters import SearchFilters
from zhiku.store.protocols import NativeVectorSearch, Store, VectorSearcher
from zhiku.store.reader import Reader
from zhiku.store.records import Chunk, Document, KnowledgeBase
from zhiku.text.indexing import index_text
from zhiku.text.tokenize import analyze
from zhiku.text.tokens import count_tokens

if TYPE_CHECKING:
    from pydantic import BaseModel

    from zhiku.agents.service import Agents
    from zhiku.answer.grounded import GroundedAnswer
    from zhiku.apps.catalog import Apps
    from zhiku.apps.running import AppKind
    from zhiku.apps.types import Assistant, AssistantConfig, RetrievalConfig
    from zhiku.audit.log import Entry, Page, Query
    from zhiku.audit.recorder import Audit
    from zhiku.chat.accounting import Bucket, UsageBy
    from zhiku.chat.engine import ChatStream, ChatTurn
    from zhiku.chat.provider_admin import ModelProviders
    from zhiku.chat.store import Owner, StoredMessage
    from zhiku.chat.wiring import LLMServices
    from zhiku.connectors.service import Sources
    from zhiku.evals.feedback import LoggedAnswer
    from zhiku.evals.importers.table import TableImport
    from zhiku.evals.store import EvalStore
    from zhiku.evals.targets import EvalTarget
    from zhiku.evals.types import EvalSet
    from zhiku.graph.ops import GraphOps
    from zhiku.graph.retrieve import GraphSearcher
    from zhiku.ingest.originals import (
        Original,  # models, assistants and chat (imported lazily at run time)
    )
    from zhiku.jobs.submit import WorkspaceJobs
    from zhiku.kbdocs import KbDocuments
    from zhiku.logs.corrections import Correction
    from zhiku.logs.query import LogEntry, LogFilter, LogTurn
    from zhiku.logs.unanswered import Unanswered
    from zhiku.models.llm.config import ProviderConfig
    from zhiku.models.llm.types import CancelToken, Message
    from zhiku.moderation.service import ModerationService
    from zhiku.permissions.service import GroupRefs, Permissions
    from zhiku.releases.service import Releases
    from zhiku.releases.subjects import Subject
    from zhiku.share.links import ShareLinks
    from zhiku.workflows.service import Workflows



PROVIDER_EMBEDDER = "provider:"
"""A knowledge base's embedder named ``provider:NAME/MODEL`` is the workspace's provider NAME."""


def parse_options(settings: Settings) -> ParseOptions:
    """The parsers' knobs and limits, from settings."""
    return ParseOptions(
        ocr=settings.ocr,
        max_pixels=settings.max_image_pixels,
        zip_limits=ZipLimits(
            max_entries=settings.zip_max_entries,
            max_entry_bytes=settings.zip_max_entry_bytes,
            max_total_bytes=settings.zip_max_total_bytes,
            max_ratio=settings.zip_max_ratio,
        ),
    )


class Zhiku:
    """Zhiku's Python API over one workspace of one database."""

    def __init__(
        self,
        settings: Settings | None = None,
        workspace: str = "default",
        *,
        runtime: Runtime | None = None,
    ) -> None:
        """Open workspace ``workspace`` (created if missing) on ``runtime``: its database,
        store, embedding models and parse workers, shared with the other workspaces' facades
        and left open on ``close()``. Without one the facade builds a runtime of its own from
        ``settings`` and closes it on ``close()``."""
        self._owns_runtime = runtime is None
        self.runtime = runtime if runtime is not None else Runtime(settings or Settings())
        self.settings = self.runtime.settings
        self.db: Database = self.runtime.db
        self.store: Store = self.runtime.store
        try:
            self.workspace_id = self.store.workspace_id(workspace, create=True)
        except BaseException:
            self.close()
            raise
        self._registry: ParserRegistry | None = None
        self._lock = threading.Lock()
        self._jobs: WorkspaceJobs | None = None
        # PostgreSQL searches its HNSW indexes itself; SQLite gets the derived index
        self.vectors: VectorSearcher = (
            self.store.vector_index()
            if isinstance(self.store, NativeVectorSearch)
            else embedded_vector_index(self.store, self.settings)
        )
        self.searcher = HybridSearcher(self.store, self.vectors, self.embedder)
        self._ranked = RerankingSearcher(
            self.searcher, lambda ref: self.llm.providers.reranker(ref)
        )
        self._graph_searcher: GraphSearcher | None = None
        self._graph_ops: GraphOps | None = None
        self._audit: Audit | None = None

    def close(self) -> None:
        """Close the workspace's model clients, and the runtime if the facade built its own
        (a lent one stays open)."""
        if getattr(self, "_llm", None) is not None:
            self._llm.providers.close()
        if getattr(self, "vectors", None) is not None:
            self.vectors.close()
        if getattr(self, "searcher", None) is not None:
            self.searcher.close()
        if self._owns_runtime:
            self.runtime.close()

    def __enter__(self) -> Zhiku:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def audit(self) -> Audit:
        """This workspace's audit recorder: ``zk.audit("kb.delete", "kb", kb.id, kb.name)``
        after a change (the actor and address come from ``zhiku.audit.context``)."""
        if self._audit is None:
            from zhiku.audit.log import AuditLog
            from zhiku.audit.recorder import Audit

            self._audit = Audit(AuditLog(self.db), self.workspace_id)
        return self._audit

    def audit_entries(self, query: Query | None = None, *, cursor: str | None = None,
                      limit: int = 100) -> Page:
        """A page of this workspace's audit log, newest first (``next_cursor``: the next)."""
        from zhiku.audit.log import Query as AuditQuery

        return self.audit.log.page(self.workspace_id, query or AuditQuery(), cursor=cursor,
                                   limit=limit)

    def audit_export(self, query: Query | None = None) -> Iterator[Entry]:
        """Every matching entry of this workspace's audit log, oldest first (read in
        batches: an export of any size keeps memory flat)."""
        from zhiku.audit.log import Query as AuditQuery

        return self.audit.log.iterate(self.workspace_id, query or AuditQuery())

    # -- models ---------------------------------------------------------------------------
    def embedder(self, name: str) -> Embedder:
        """The embedder called ``name`` (loaded once per runtime, shared by its facades), or,
        for ``provider:PROVIDER/MODEL``, this workspace's embedding provider."""
        if name.startswith(PROVIDER_EMBEDDER):
            return self.llm.providers.embedder(name.removeprefix(PROVIDER_EMBEDDER))
        return self.runtime.embedders.get(name)

    @property
    def registry(self) -> ParserRegistry:
        """The parsers."""
        if self._registry is None:
            self._registry = default_registry()
        return self._registry

    @property
    def parser(self) -> DocumentParser:
        """What ingestion parses with: worker processes, or this process when
        ``parse_workers`` is 0 (or the platform is not POSIX)."""
        if self.settings.parse_workers == 0 or not SANDBOX_SUPPORTED:
            return self.registry
        return self.runtime.sandbox

    # -- knowledge bases ------------------------------------------------------------------
    def create_kb(
        self, name: str, *, embedder: str | None = None, **settings: Any
    ) -> KnowledgeBase:
        """Create a knowledge base. Settings: chunk_tokens, chunk_overlap, parent_child, graph,
        reranker (provider/model), rerank_top_n, language (zh, en, auto: without ``embedder``,
        Chinese and mixed content get the multilingual embedder when it is installed)."""
        if not name or len(name) > 128 or "/" in name:
            raise InvalidInput("a knowledge base name is 1-128 characters without '/'")
        checked = check_kb_settings(settings)
        chosen = embedder or choose_embedder(self.settings, checked.get("language"))
        self.embedder(chosen)  # fail now, not at the first ingest, on an unknown model
        kb = self.store.create_kb(self.workspace_id, name, chosen, checked)
        self.audit("kb.create", "kb", kb.id, kb.name,
                   detail={"embedder": chosen, "settings": checked})
        return kb

    def update_kb_settings(self, name: str, **changes: Any) -> KnowledgeBase:
        """Merge ``changes`` into a knowledge base's settings (None unsets one, back to the
        server's default). They apply to documents ingested or re-indexed from then on."""
        kb = self.kb(name)
        merged = {**kb.settings, **check_kb_settings(changes, unset=True)}
        kept = {k: v for k, v in merged.items() if v is not None}
        updated = self.store.update_kb(kb.id, settings=kept)
        self.audit("kb.update", "kb", kb.id, kb.name, detail={"changes": changes})
        return updated

    def kb(self, name: str) -> KnowledgeBase:
        """The knowledge base called ``name`` in this workspace."""
        return self.store.get_kb(self.workspace_id, name)

    def reanalyze(self, name: str) -> int:
        """Re-index the full-text terms the current analyzer reads differently (a knowledge
        base indexed before Traditional/Simplified folding); the number of chunks re-indexed."""
        from zhiku.ingest.reanalyze import reanalyze_kb

        kb = self.kb(name)
        done = reanalyze_kb(self.store, kb.id)
        if done:
            self.audit("kb.reanalyze", "kb", kb.id, kb.name, detail={"chunks": done})
        return done

    def list_kbs(self) -> list[KnowledgeBase]:
        """Every knowledge base in this workspace."""
        return self.store.list_kbs(self.workspace_id)

    def delete_kb(self, name: str) -> None:
        """Delete a knowledge base and everything in it."""
        kb = self.kb(name)
        self.store.delete_kb(kb.id)
        self.vectors.invalidate()
        self.audit("kb.delete", "kb", kb.id, kb.name)

    def stats(self, name: str | None = None) -> dict[str, dict[str, int]]:
        """Document and chunk counts per knowledge base."""
        kbs = [self.kb(name)] if name else self.list_kbs()
        return {kb.name: self.store.kb_stats(kb.id) for kb in kbs}

    # -- ingestion ------------------------------------------------------------------------
    def _pipeline(self, kb: KnowledgeBase, limits: GroupLimits | None = None) -> Pipeline:
        s = self.settings
        chunking = ChunkingOptions(
            target=int(kb.settings.get("chunk_tokens", s.chunk_tokens)),
            overlap=int(kb.settings.get("chunk_overlap", s.chunk_overlap)),
            parent_child=bool(kb.settings.get("parent_child", False)),
        )
        options = PipelineOptions(
            chunking=chunking,
            parse=parse_options(s),
            max_file_bytes=s.max_file_bytes,
            embed_batch_size=s.embed_batch_size,
        )
        from zhiku.graph.hook import GraphHook  # loads jieba's tagger: only when ingesting
        from zhiku.graph.store import GraphStore

        hooks = [GraphHook(GraphStore(self.db))]
        return Pipeline(self.store, self.parser, self.embedder(kb.embedder), options, hooks,
                        limits)

    def ingest(
        self,
        kb_name: str,
        paths: Iterable[str | Path],
        *,
        metadata: dict[str, Any] | None = None,
        listener: IngestListener | None = None,
        groups: GroupRefs = None,
    ) -> IngestReport:
        """Ingest files, folders (recursively), globs and http(s) URLs; ``source`` is the
        absolute path, or the URL fetched. URLs go through the SSRF guard: an internal address
        is refused unless the ``api_url_allowlist`` setting permits it. ``groups`` (ids or
        names): restrict the documents to these groups from their first write (None: a new
        document is unrestricted, a replaced one keeps its restriction)."""
        from zhiku.ingest.fetch import is_url, url_items

        kb = self.kb(kb_name)
        restrict = self.permissions.resolve(groups)
        sources = list(paths)
        urls = [str(s) for s in sources if is_url(s)]
        files = expand_paths([s for s in sources if not is_url(s)])
        fetched = url_items(urls, self.settings, metadata) if urls else iter(())
        if restrict is not None:
            fetched = (replace(item, groups=tuple(restrict)) for item in fetched)
        items = itertools.chain(
            (SourceItem(str(p), path=p, metadata=dict(metadata or {}),
                        groups=None if restrict is None else tuple(restrict)) for p in files),
            fetched)
        report = self._pipeline(kb).run(kb, items, listener)
        if files or urls:
            named = [str(p) for p in files] + urls
            self.audit("document.upload", "kb", kb.id, kb.name,
                       detail={"sources": named[:100], "count": len(named)})
        return report

    def ingest_items(
        self,
        kb_name: str,
        items: Iterable[SourceItem],
        listener: IngestListener | None = None,
        *,
        sweep: Sweep = "parsed",
        limits: GroupLimits | None = None,
    ) -> IngestReport:
        """Ingest in-memory items (uploads, generated documents); ``sweep``: what else to
        embed first (see ``Pipeline.run``); ``limits``: how many parsed documents are written
        together (``GroupLimits``)."""
        kb = self.kb(kb_name)
        return self._pipeline(kb, limits).run(kb, items, listener, sweep=sweep)

    def documents(self, kb_name: str, status: str | None = None) -> list[Document]:
        """Documents of a knowledge base that the current reader may read."""
        docs = self.store.list_documents(self.kb(kb_name).id, status)
        reader = current_reader()
        if reader.unlimited or not any(d.restricted for d in docs):
            return docs
        readable = self.store.readable_documents([d.id for d in docs], reader)
        return [d for d in docs if d.id in readable]

    @property
    def permissions(self) -> Permissions:
        """Groups of readers and which groups may read each document and source
        (docs/permissions.md)."""
        from zhiku.permissions.service import Permissions
        from zhiku.permissions.store import GroupStore

        return Permissions(self.store, GroupStore(self.db, self.workspace_id), self.audit,
                           self.document)

    def _check_whole_kb(self, kb: KnowledgeBase) -> None:
        """``Forbidden`` unless the current reader reads every document of ``kb`` (what the
        graph browser shows is drawn from all of them)."""
        if self.store.hides_any([kb.id], current_reader()):
            raise Forbidden(f"knowledge base '{kb.name}' has restricted documents: its graph "
                            "is shown to administrators only (graph search modes still work)")

    def _check_readable(self, doc: Document, ref: int | str) -> Document:
        """``doc``, or ``NotFound`` (as for a missing one) when the current reader may not
        read it."""
        if doc.restricted and not self.store.readable_documents([doc.id], current_reader()):
            raise NotFound(f"document {ref} does not exist")
        return doc

    @property
    def kbdocs(self) -> KbDocuments:
        """Pages of a knowledge base's documents, and actions over many of them."""
        from zhiku.kbdocs import KbDocuments

        return KbDocuments(self)

    def document(self, kb_name: str, ref: int | str) -> Document:
        """A document by id or by source (path as ingested), if the current reader may read
        it (otherwise ``NotFound``, as for a missing one)."""
        kb = self.kb(kb_name)
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            doc = self.store.get_document(int(ref))
            if doc.kb_id != kb.id:
                raise NotFound(f"document {ref} does not exist")
            return self._check_readable(doc, ref)
        found = self.store.find_document(kb.id, ref) or self.store.find_document(
            kb.id, str(Path(ref).expanduser().resolve())
        )
        if found is None:
            raise NotFound(f"document '{ref}' does not exist")
        return self._check_readable(found, f"'{ref}'")

    def delete_document(self, kb_name: str, ref: int | str, *, audit: bool = True) -> Document:
        """Delete a document with its chunks, vectors and full-text rows, and its stored
        original file once nothing else refers to it. ``audit=False``: not recorded as a
        deletion (a re-index replacing the document, recorded when it was asked for)."""
        from zhiku.ingest import originals

        doc = self.document(kb_name, ref)
        self.store.delete_document(doc.id)
        originals.collect(self.db, doc.content_hash)
        if audit:
            self.audit("document.delete", "document", doc.id, doc.source,
                       detail={"kb": kb_name})
        return doc

    def original(self, kb_name: str, ref: int | str) -> Original:
        """A document's original file as it was uploaded or fetched (``NotFound`` when it is
        not stored, e.g. a file ingested from a path)."""
        from zhiku.ingest import originals

        doc = self.document(kb_name, ref)
        try:
            return originals.get(self.db, doc.content_hash)
        except NotFound:
            raise NotFound("this document's original file is not stored") from None

    def chunks(self, kb_name: str, ref: int | str) -> list[Chunk]:
        """The chunks of a document, in order."""
        return self.store.list_chunks(self.document(kb_name, ref).id)

    # -- edits ----------------------------------------------------------------------------
    def set_document_metadata(
        self,
        kb_name: str,
        ref: int | str,
        metadata: dict[str, Any] | None = None,
        *,
        tags: Sequence[str] | None = None,
    ) -> Document:
        """Replace a document's metadata and/or its tags (``metadata["tags"]``); search
        filters see them at once. Unset arguments keep what the document has."""
        doc = self.document(kb_name, ref)
        meta = dict(doc.metadata if metadata is None else metadata)
        if tags is not None:
            meta["tags"] = list(tags)
        self.store.set_document_metadata(doc.id, meta)
        self.audit("document.update", "document", doc.id, doc.source,
                   detail={"kb": kb_name, "metadata": sorted(meta)})
        return self.store.get_document(doc.id)

    def chunk(self, kb_name: str, chunk_id: int) -> Chunk:
        """One chunk of a knowledge base, by id."""
        kb = self.kb(kb_name)
        found = self.store.get_chunks([chunk_id]).get(chunk_id)
        if found is None or found.kb_id != kb.id or not self.store.readable_documents(
            [found.document_id], current_reader()
        ):
            raise NotFound(f"chunk {chunk_id} does not exist")
        return found

    def edit_chunk(self, kb_name: str, chunk_id: int, text: str) -> Chunk:
        """New text for a chunk. Its full-text terms are re-indexed at once; a searchable
        chunk loses its vector and its document goes back to ``parsed`` until it is embedded
        again (``embed_pending``, or a background embed job)."""
        if not text.strip():
            raise InvalidInput("a chunk's text is not empty")
        chunk = self.chunk(kb_name, chunk_id)
        if text != chunk.text:
            terms = analyze(index_text(chunk.heading_path, text)) if chunk.searchable else []
            self.store.update_chunk_text(chunk.id, text, token_count=count_tokens(text),
                                         terms=terms)
            self.audit("chunk.update", "chunk", chunk.id, None,
                       detail={"kb": kb_name, "document_id": chunk.document_id})
        return self.chunk(kb_name, chunk_id)

    def set_chunk_enabled(self, kb_name: str, chunk_id: int, enabled: bool) -> Chunk:
        """Disable (or re-enable) a chunk: disabled chunks never come back from search."""
        chunk = self.chunk(kb_name, chunk_id)
        if chunk.enabled != enabled:
            self.store.set_chunk_enabled(chunk.id, enabled)
            self.audit("chunk.enable" if enabled else "chunk.disable", "chunk", chunk.id, None,
                       detail={"kb": kb_name, "document_id": chunk.document_id})
        return self.chunk(kb_name, chunk_id)

    def embed_pending(
        self, kb_name: str, listener: IngestListener | None = None
    ) -> IngestReport:
        """Embed what lacks a vector (documents left ``parsed``, e.g. after ``edit_chunk``)."""
        return self.ingest_items(kb_name, [], listener, sweep="parsed")

    def set_embedder(
        self, kb_name: str, embedder: str, listener: IngestListener | None = None
    ) -> IngestReport:
        """Re-embed a knowledge base with another model, then switch to it.

        Search keeps using the old vectors until every chunk has a new one.
        """
        kb = self.kb(kb_name)
        new = self.embedder(embedder)
        report = Pipeline(self.store, self.parser, new, self._pipeline(kb)._options).run(
            kb, [], listener, sweep="all"
        )
        old_model = self.embedder(kb.embedder).model_id
        self.store.update_kb(kb.id, embedder=embedder)
        self.audit("kb.update", "kb", kb.id, kb.name,
                   detail={"changes": {"embedder": embedder}})
        if old_model != new.model_id:
            self.store.drop_vectors(kb.id, old_model)
        return report

    # -- the knowledge graph --------------------------------------------------------------
    @property
    def graph(self) -> GraphOps:
        """The knowledge graph of this workspace's knowledge bases: build, inspect, merge,
        export (loads networkx: only when first asked)."""
        with self._lock:
            if self._graph_ops is None:
                from zhiku.graph.ops import GraphOps
                from zhiku.graph.store import GraphStore

                self._graph_ops = GraphOps(
                    GraphStore(self.db),
                    self.kb,
                    lambda kb_id, settings: self.store.update_kb(kb_id, settings=settings),
                    self.embedder,
                    self._check_whole_kb,
                )
            return self._graph_ops

    # -- evaluation -----------------------------------------------------------------------
    @property
    def evals(self) -> EvalStore:
        """This workspace's eval sets and runs (what ``zhiku.evals`` functions read and
        write)."""
        from zhiku.evals.store import EvalStore

        return EvalStore(self.db, self.workspace_id, self.store)

    def eval_target(self, kind: str, name: str, mode: Mode = "hybrid") -> EvalTarget:
        """What an eval run questions: knowledge base ``name`` searched in ``mode``
        (``kind`` "kb"), or assistant ``name`` (``kind`` "app")."""
        if kind == "kb":
            from zhiku.evals.targets import KbTarget

            return KbTarget(self, name, mode)
        if kind == "app":
            from zhiku.evals.app_target import AppTarget

            return AppTarget(self, name, mode)
        raise InvalidInput(f"unknown evaluation target kind '{kind}'")

    # -- search and answers ---------------------------------------------------------------
    def search(
        self,
        kbs: str | Sequence[str],
        query: str,
        *,
        top_k: int | None = None,
        mode: SearchMode = "hybrid",
        filters: SearchFilters | dict[str, Any] | None = None,
        fusion: str | None = None,
        min_relevance: float = 0.0,
        candidates: int | None = None,
        vector_weight: float | None = None,
        reranker: str | None = None,
        rerank_top_n: int | None = None,
        reader: Reader | None = None,
    ) -> list[Hit]:
        """Hybrid (or keyword / vector) search over one or more knowledge bases, among the
        documents ``reader`` may read (default: the current reader, see
        ``zhiku.permissions.context``; nobody named reads the unrestricted documents only).

        ``reranker`` (provider/model of a provider of kind rerank; default: the first
        knowledge base's ``reranker`` setting) reorders the top ``rerank_top_n`` fused
        candidates; if it fails, the fused order stands (``Hit.reranked`` is False)."""
        if not query.strip():
            raise InvalidInput("the query is empty")
        names = [kbs] if isinstance(kbs, str) else list(kbs)
        flt = SearchFilters.model_validate(filters) if isinstance(filters, dict) else filters
        who = reader if reader is not None else current_reader()
        if is_graph_mode(mode):  # local | global | mix
            return self._graph_search().search([self.kb(n) for n in names], query, mode,
                                               top_k=top_k, filters=flt,
                                               min_relevance=min_relevance, reader=who)
        s = self.settings
        params = replace(
            self._search_defaults(),
            top_k=top_k or s.top_k,
            mode=mode,
            fusion=fusion or s.fusion,
            vector_weight=s.vector_weight if vector_weight is None else vector_weight,
            candidates=candidates or s.candidates,
            min_relevance=min_relevance,
            filters=flt,
            reader=who,
        )
        if params.fusion not in ("rrf", "weighted"):
            raise InvalidInput("fusion is 'rrf' or 'weighted'")
        kbs_ = [self.kb(n) for n in names]
        return self._ranked.search(kbs_, query, params, reranker=reranker, top_n=rerank_top_n)

    def _search_defaults(self) -> SearchParams:
        s = self.settings
        return SearchParams(top_k=s.top_k, fusion=s.fusion, rrf_k=s.rrf_k,
                            vector_weight=s.vector_weight, candidates=s.candidates)

    def _graph_search(self) -> GraphSearcher:
        """The graph-mode searcher (loads the graph's tokenizers: only when first asked)."""
        with self._lock:
            if self._graph_searcher is None:
                from zhiku.graph.retrieve import GraphSearcher
                from zhiku.graph.store import GraphStore

                self._graph_searcher = GraphSearcher(GraphStore(self.db), self.store,
                                                     self._ranked, self._search_defaults())
            return self._graph_searcher

    def ask(
        self,
        kbs: str | Sequence[str],
        question: str,
        *,
        top_k: int | None = None,
        answerer: Answerer | None = None,
        filters: SearchFilters | dict[str, Any] | None = None,
    ) -> Answer:
        """Answer from the knowledge base(s), citing every sentence, or refuse."""
        hits = self.search(kbs, question, top_k=top_k, filters=filters)
        chosen = answerer or ExtractiveAnswerer(self.settings.min_relevance)
        return chosen.answer(question, hits)

    # -- background jobs ------------------------------------------------------------------
    @property
    def jobs(self) -> WorkspaceJobs:
        """This workspace's background jobs: submit uploads, URLs, re-indexing, eval runs;
        list, get, cancel and retry them."""
        with self._lock:
            if self._jobs is None:
                from zhiku.jobs.submit import WorkspaceJobs

                self._jobs = WorkspaceJobs(self, self.db)
                self._jobs.on_queued = self.runtime.job_queued
            return self._jobs

    # -- models, assistants and chat --------------------------------------------------------
    @property
    def llm(self) -> LLMServices:
        """Providers, assistants, conversations and the call log of this workspace."""
        with self._lock:
            if getattr(self, "_llm", None) is None:
                from zhiku.chat.wiring import LLMServices, retrieval_kwargs

                def search(kbs: list[str], query: str, config: RetrievalConfig) -> list[Hit]:
                    return self.search(kbs, query, **retrieval_kwargs(config))  # type: ignore[arg-type]

                self._llm = LLMServices.build(
                    self.db, self.workspace_id, self.settings.home, search,
                    self.settings.api_url_allowlist,
                )
                self._llm.moderation.on_change = self._moderation_changed
            return self._llm

    def _moderation_changed(self, action: str, detail: dict[str, Any]) -> None:
        """Audit a change of the moderation policy (hooked once, when the services are built)."""
        self.audit(action, "moderation", None, None, detail=detail)

    @property
    def providers(self) -> ModelProviders:
        """The workspace's model providers and its default chat model."""
        from zhiku.chat.provider_admin import ModelProviders

        def record(action: str, name: str, detail: dict[str, Any]) -> None:
            self.audit(action, "provider", None, name, detail=detail)

        return ModelProviders(self.llm.providers, self.llm.calls, on_change=record)

    def add_provider(
        self, name: str, *, preset: str | None = None, api_key: str | None = None,
        replace: bool = False, **config: Any,
    ) -> ProviderConfig:
        """Store a provider (from a preset or explicit base_url/models); the key is encrypted."""
        return self.providers.add(name, preset=preset, api_key=api_key, replace=replace,
                                  **config)

    def remove_provider(self, name: str) -> None:
        """Remove a provider and its stored key."""
        self.providers.remove(name)

    def list_providers(self) -> list[ProviderConfig]:
        """Every configured provider (never their keys)."""
        return self.llm.providers.list()

    def test_provider(self, name: str, model: str | None = None) -> dict[str, object]:
        """One tiny real call: latency, or the exact failure."""
        return self.llm.test_provider(name, model)

    def create_assistant(self, name: str, *, slug: str | None = None, **config: Any) -> Assistant:
        """A new assistant; ``config`` holds AssistantConfig fields (knowledge_bases, model…).
        Without a ``model`` it takes the workspace's default chat model; with ``model`` None
        (or "extractive") it answers extractively (no LLM), through the same chat path."""
        from zhiku.apps.types import AssistantConfig

        if "model" not in config:
            config = {**config, "model": self.llm.providers.default_model()}
        checked = AssistantConfig.model_validate(config)
        self._check_assistant(checked)
        created = self.llm.assistants.create(name, checked, slug)
        self.audit("assistant.create", "assistant", created.id, created.slug,
                   detail={"name": name})
        return created

    def update_assistant(self, app: str, **changes: Any) -> Assistant:
        """Edit an assistant's draft (``name`` renames it), checked like ``create_assistant``."""
        self._check_assistant(self.llm.assistants.draft_after(app, **changes))
        updated = self.llm.assistants.update(app, **changes)
        self.audit("assistant.update", "assistant", updated.id, updated.slug,
                   detail={"fields": sorted(changes)})
        return updated

    def _check_assistant(self, config: AssistantConfig) -> None:
        """Its knowledge bases exist (``NotFound``), its models name configured chat providers
        and its reranker a provider of kind rerank (``InvalidInput``): refused now rather than
        at the first chat."""
        for kb in config.knowledge_bases:
            self.kb(kb)
        providers = self.llm.providers

        def kind_of(what: str, ref: str) -> str:
            try:
                return providers.config_for(ref).kind
            except NotFound as exc:
                raise InvalidInput(f"{what} '{ref}': {exc.message}") from None

        for ref in [config.model, *config.fallback_models]:
            kind = None if ref is None else kind_of("model", ref)
            if kind in ("rerank", "embedding"):
                what = "a reranker" if kind == "rerank" else "an embedder"
                raise InvalidInput(f"model '{ref}' is {what}, not a chat model")
        reranker = config.retrieval.reranker
        if reranker is not None and kind_of("reranker", reranker) != "rerank":
            raise InvalidInput(f"reranker '{reranker}' is not a provider of kind rerank")

    def publish_assistant(
        self, app: str, note: str | None = None, *, force: bool = False,
        reason: str | None = None, actor: str | None = None,
    ) -> int:
        """Freeze the draft as a new live version; returns its number. An assistant bound to
        an eval set publishes only if the draft is not worse than live (see ``releases``);
        ``force`` with a ``reason`` overrides that, recorded with ``actor``."""
        version = self.releases.publish(app, note, force=force, reason=reason, actor=actor)
        found = self.llm.assistants.get(app)
        self.audit("assistant.publish", "assistant", found.id, found.slug,
                   detail={"version": version, "note": note, "forced": force,
                           "reason": reason})
        return version

    def rollback_assistant(self, app: str, version: int | None = None) -> int:
        """Make an earlier version live again (default: the one before the live one)."""
        live = self.releases.rollback(app, version)
        found = self.llm.assistants.get(app)
        self.audit("assistant.rollback", "assistant", found.id, found.slug,
                   detail={"version": live})
        return live

    @property
    def releases(self) -> Releases:
        """Provable releases of every app (assistants, chat-shaped workflows, agents):
        eval-set bindings, scorecards, the gate."""
        assistants = self.llm.assistants  # before taking the lock, which ``llm`` takes too
        with self._lock:
            if getattr(self, "_releases", None) is None:
                from zhiku.releases.fingerprint import corpus_hash
                from zhiku.releases.service import Releases
                from zhiku.releases.subjects import Subjects

                self._releases = Releases(
                    Subjects(self._app_kind, assistants, lambda: self.workflows,
                             lambda: self.agents),
                    self.evals, self._release_target,
                    lambda names: corpus_hash(self.db, self.kb, names),
                )
            return self._releases

    def _app_kind(self, app: str) -> AppKind:
        """The kind of app ``app`` names: by slug, else by name (an assistant's first);
        an unknown one is left to the assistants to refuse (``NotFound``)."""
        try:
            return self.apps.kind(app)
        except NotFound:
            pass
        getters: list[tuple[AppKind, Callable[[str], object]]] = [
            ("assistant", self.llm.assistants.get), ("workflow", self.workflows.get),
            ("agent", self.agents.get)]
        for kind, get in getters:
            try:
                get(app)
            except NotFound:
                continue
            return kind
        return "assistant"

    def _release_target(self, subject: Subject, config: BaseModel, label: str) -> EvalTarget:
        """The eval target of one configuration of an app (see ``releases``)."""
        if subject.kind == "assistant":
            from zhiku.apps.types import AssistantConfig
            from zhiku.evals.app_target import AppTarget

            assert isinstance(config, AssistantConfig)
            return AppTarget(self, subject.slug, config=config, label=label)
        from zhiku.agents.config import AgentConfig
        from zhiku.evals.app_run_target import AppRunTarget
        from zhiku.workflows.schema import Workflow

        assert isinstance(config, Workflow | AgentConfig)
        return AppRunTarget(self, subject.kind, subject.slug, config, label)

    def delete_assistant(self, app: str) -> None:
        """Delete an assistant and its versions (its conversations stay, detached)."""
        found = self.llm.assistants.get(app)
        self.llm.assistants.delete(app)
        self.audit("assistant.delete", "assistant", found.id, found.slug)

    def get_assistant(self, app: str) -> Assistant:
        """An assistant by slug or name."""
        return self.llm.assistants.get(app)

    def list_assistants(self) -> list[Assistant]:
        """Every assistant of the workspace."""
        return self.llm.assistants.list()

    def assistant_versions(self, app: str) -> list[dict[str, Any]]:
        """An assistant's published versions, newest first (number, config, note, date,
        whether it is live, and what its release was checked against, who forced it)."""
        return self.releases.versions(app)

    def ask_app(
        self, app: str, question: str, cancel: CancelToken | None = None
    ) -> GroundedAnswer:
        """A one-shot grounded answer from an assistant (nothing stored but the call log)."""
        return self.llm.engine.ask(app, question, cancel)

    @overload
    def chat(
        self, app: str, message: str, conversation_id: int | None = None, *,
        stream: Literal[False] = False, cancel: CancelToken | None = None,
        history: Sequence[Message] | None = None, store: bool = True,
        owner: Owner | None = None, endpoint: str | None = None, draft: bool = False,
    ) -> ChatTurn: ...

    @overload
    def chat(
        self, app: str, message: str, conversation_id: int | None = None, *,
        stream: Literal[True], cancel: CancelToken | None = None,
        history: Sequence[Message] | None = None, store: bool = True,
        owner: Owner | None = None, endpoint: str | None = None, draft: bool = False,
    ) -> ChatStream: ...

    def chat(
        self, app: str, message: str, conversation_id: int | None = None, *,
        stream: bool = False, cancel: CancelToken | None = None,
        history: Sequence[Message] | None = None, store: bool = True,
        owner: Owner | None = None, endpoint: str | None = None, draft: bool = False,
    ) -> ChatTurn | ChatStream:
        """One turn of a conversation; ``stream=True`` returns an iterable of events (its
        ``usage`` is set once answered).

        ``history``: earlier user/assistant turns kept by the caller instead of a stored
        conversation; ``store=False`` stores nothing but the call log. ``owner``: who a new
        conversation belongs to; ``endpoint``: a face's name for the request, which is then
        written to the request log with the owner and the turn's usage. ``draft``: answer
        with the assistant's draft instead of its published version (a preview)."""
        engine = self.llm.engine
        call = engine.stream if stream else engine.turn
        return call(app, message, conversation_id, cancel, store=store, history=history,
                    owner=owner, endpoint=endpoint, draft=draft)

    def list_conversations(self, app: str | None = None) -> list[dict[str, Any]]:
        """Stored conversations (of one assistant), most recent first."""
        owner = None if app is None else self.llm.assistants.get(app).id
        return self.llm.conversations.list(owner)

    def conversation(self, conversation_id: int) -> list[StoredMessage]:
        """The messages of a conversation."""
        return self.llm.conversations.messages(conversation_id)

    def conversation_info(self, conversation_id: int) -> dict[str, Any]:
        """A conversation: id, assistant_id (None: its assistant was deleted), title, its
        owner's user_id and key_id, created_at, updated_at."""
        return self.llm.conversations.get(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation and its messages (its answers' feedback stays, detached)."""
        self.llm.conversations.get(conversation_id)
        self.llm.conversations.delete(conversation_id)

    def message(self, message_id: int) -> StoredMessage:
        """One stored message of this workspace."""
        return self.llm.conversations.message(message_id)

    @property
    def share(self) -> ShareLinks:
        """Share links of this workspace's apps: a public chat page and widget per link."""
        from zhiku.accounts.secrets import HashCost
        from zhiku.models.llm.secrets import SecretBox
        from zhiku.share.apps import resolve_app
        from zhiku.share.links import ShareLinks
        from zhiku.share.store import ShareLinkStore

        return ShareLinks(ShareLinkStore(self.db), self.workspace_id,
                          SecretBox(self.settings.home),
                          lambda kind, slug: resolve_app(self.apps, self.db, self.workspace_id,
                                                         kind, slug),
                          self.audit, HashCost.of(self.settings))

    @property
    def workflows(self) -> Workflows:
        """Workflows of this workspace: definitions, versions, runs (``zk.workflows.run``)."""
        with self._lock:
            if getattr(self, "_workflows", None) is None:
                from zhiku.workflows.service import Workflows

                self._workflows = Workflows.of(self)
            return self._workflows

    @property
    def moderation(self) -> ModerationService:
        """This workspace's moderation: policy, hits, and a dry run (``zk.moderation.test``).
        Chat, the OpenAI-compatible endpoint and every assistant channel apply it."""
        return self.llm.moderation

    @property
    def agents(self) -> Agents:
        """Agents and tool sources (MCP servers, OpenAPI specs) of this workspace
        (``zk.agents.run``)."""
        with self._lock:
            if getattr(self, "_agents", None) is None:
                from zhiku.agents.service import Agents

                self._agents = Agents(self)
            return self._agents

    @property
    def apps(self) -> Apps:
        """Every app of this workspace (assistants, workflows, agents): list, versions,
        publish, roll back, run (``zk.apps.run``), run history and usage per app."""
        with self._lock:
            if getattr(self, "_apps", None) is None:
                from zhiku.apps.catalog import Apps

                self._apps = Apps(self)
            return self._apps

    @property
    def sources(self) -> Sources:
        """Sources that keep knowledge bases in step with folders, sites and other stores
        (``zk.sources.sync``)."""
        with self._lock:
            if getattr(self, "_sources", None) is None:
                from zhiku.connectors.service import Sources

                self._sources = Sources(self)
            return self._sources

    def model_calls(self, conversation_id: int | None = None) -> list[dict[str, Any]]:
        """Recorded model calls (tokens, latency, TTFT, cost, app, conversation)."""
        return self.llm.calls.calls(conversation_id)

    def usage(
        self,
        by: UsageBy = "assistant",
        *,
        bucket: Bucket | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]:
        """Requests, model calls, tokens, cost and latency per assistant, API key or day, and
        per day or hour ``bucket`` when given; ``since``/``until`` (exclusive) are ISO dates
        or times (see ``zhiku.chat.accounting.usage``)."""
        from zhiku.chat.accounting import usage

        return usage(self.db, self.workspace_id, by, bucket, since, until)

    def rate_reply(
        self, message_id: int, rating: int | str, *, comment: str = "",
        corrected_answer: str | None = None, tags: Sequence[str] = (),
    ) -> LoggedAnswer:
        """Feedback on an assistant's reply (``up``/``down``/``neutral``, or 1/-1/0); the
        reply goes to the answer log on its first feedback, as ``zhiku feedback`` sees it."""
        from zhiku.evals.feedback import rate_reply

        return rate_reply(self, message_id, rating, comment=comment,
                          corrected_answer=corrected_answer, tags=tags)

    # -- conversation log -----------------------------------------------------------------
    def conversation_log(
        self, flt: LogFilter | None = None, *, offset: int = 0, limit: int = 50
    ) -> tuple[int, list[LogEntry]]:
        """Every conversation of the workspace matching ``flt`` (any assistant and channel),
        newest first: the total and one page (see ``zhiku.logs.query``)."""
        from zhiku.logs.query import list_log

        return list_log(self.db, self.workspace_id, flt, offset=offset, limit=limit)

    def conversation_entry(self, conversation_id: int) -> LogEntry:
        """One conversation as the log lists it (channel, turn counts)."""
        from zhiku.logs.query import entry

        return entry(self.db, self.llm.conversations.get(conversation_id))

    def conversation_turns(self, conversation_id: int) -> list[LogTurn]:
        """A conversation's turns: question, reply, citations, latest feedback."""
        from zhiku.logs.query import turns

        self.llm.conversations.get(conversation_id)
        return turns(self.db, conversation_id)

    def correct_reply(
        self, message_id: int, answer: str, *, kb: str | None = None,
        eval_set: str | None = None, expected_source: str | None = None,
        groups: GroupRefs = None,
    ) -> Correction:
        """Fix a logged reply: ``answer`` becomes an FAQ document in ``kb`` (searchable at
        once; restricted to ``groups``, or when None like the restricted documents the reply
        cited) and/or a question of ``eval_set`` (see ``zhiku.logs.corrections``)."""
        from zhiku.logs.corrections import correct

        return correct(self, message_id, answer, kb=kb, eval_set=eval_set,
                       expected_source=expected_source, groups=groups)

    def unanswered_questions(
        self, *, assistant_ids: list[int] | None = None, since: str | None = None,
        limit: int = 100,
    ) -> list[Unanswered]:
        """Refused questions grouped by normalised text, most asked first."""
        from zhiku.logs.unanswered import unanswered

        return unanswered(self.db, self.workspace_id, assistant_ids=assistant_ids,
                          since=since, limit=limit)

    def eval_set_from_log(
        self, name: str, message_ids: Sequence[int], *, replace: bool = False
    ) -> EvalSet:
        """A new eval set of the selected logged replies (see ``zhiku.logs.to_evals``)."""
        from zhiku.logs.to_evals import set_from_log

        return set_from_log(self, name, message_ids, replace=replace)

    def import_eval_table(
        self, name: str, data: bytes, filename: str, *, replace: bool = False,
        origin: str = "",
    ) -> tuple[EvalSet, TableImport]:
        """An eval set from a CSV, TSV or XLSX table; bad rows are left out and reported
        (``InvalidInput`` when no row is usable)."""
        from zhiku.evals import sets
        from zhiku.evals.importers.table import read_table

        found = read_table(data, filename)
        if not found.questions:
            listed = "; ".join(f"row {e.row}: {e.error}" for e in found.errors[:20])
            raise InvalidInput("no usable question in the table" + (f" ({listed})"
                                                                      if listed else ""))
        made = sets.create_set(self.evals, name, found.questions, origin=origin or filename,
                               replace=replace)
        return made, found
