"""The facade: the one Python API that the CLI, the HTTP API and the console call.

>>> zk = Zhiku(Settings(home=tmp))          # doctest: +SKIP
>>> zk.create_kb("handbook")
>>> zk.ingest("handbook", ["./docs"])
>>> zk.search("handbook", "报销流程需要哪些材料")
>>> zk.ask("handbook", "How many days of leave do new employees get?")
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zhiku.answer.extractive import ExtractiveAnswerer
from zhiku.answer.types import Answer, Answerer
from zhiku.core.errors import InvalidInput, NotFound
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
from zhiku.ingest.pipeline import Pipeline, PipelineOptions, SourceItem, Sweep
from zhiku.ingest.sources import expand_paths
from zhiku.models.embedders import Embedder
from zhiku.retrieval.search import HybridSearcher, SearchParams
from zhiku.retrieval.types import Hit
from zhiku.retrieval.vector import VectorIndex
from zhiku.runtime import Runtime
from zhiku.store.db import Database
from zhiku.store.filters import SearchFilters
from zhiku.store.protocols import NativeVectorSearch, Store, VectorSearcher
from zhiku.store.records import Chunk, Document, KnowledgeBase

if TYPE_CHECKING:  # models, assistants and chat (imported lazily at run time)
    from zhiku.answer.grounded import GroundedAnswer
    from zhiku.apps.types import Assistant, RetrievalConfig
    from zhiku.chat.engine import ChatStream, ChatTurn
    from zhiku.chat.store import StoredMessage
    from zhiku.chat.wiring import LLMServices
    from zhiku.models.llm.config import ProviderConfig
    from zhiku.models.llm.types import CancelToken

MULTILINGUAL_EMBEDDERS = frozenset({"use-multilingual"})
KB_SETTING_KEYS = frozenset(
    {"chunk_tokens", "chunk_overlap", "parent_child", "graph", "reranker", "rerank_top_n"}
)


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
        # PostgreSQL searches its HNSW indexes itself; SQLite gets the in-memory exact index
        self.vectors: VectorSearcher = (
            self.store.vector_index()
            if isinstance(self.store, NativeVectorSearch)
            else VectorIndex(self.store, self.settings.vector_blas_threads)
        )
        self.searcher = HybridSearcher(
            self.store, self.vectors, self.embedder, lambda name: name in MULTILINGUAL_EMBEDDERS
        )

    def close(self) -> None:
        """Close the runtime if the facade built its own (a lent one stays open)."""
        if self._owns_runtime:
            self.runtime.close()

    def __enter__(self) -> Zhiku:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- models ---------------------------------------------------------------------------
    def embedder(self, name: str) -> Embedder:
        """The embedder called ``name`` (loaded once per runtime, shared by its facades)."""
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
        reranker (provider/model), rerank_top_n."""
        if not name or len(name) > 128 or "/" in name:
            raise InvalidInput("a knowledge base name is 1-128 characters without '/'")
        unknown = set(settings) - KB_SETTING_KEYS
        if unknown:
            raise InvalidInput(f"unknown knowledge base settings: {sorted(unknown)}")
        if not isinstance(settings.get("reranker", ""), str):
            raise InvalidInput("reranker is a provider/model reference")
        top_n = settings.get("rerank_top_n", 1)
        if not isinstance(top_n, int) or isinstance(top_n, bool) or not 1 <= top_n <= 200:
            raise InvalidInput("rerank_top_n is a whole number from 1 to 200")
        chosen = embedder or self.settings.embedder
        self.embedder(chosen)  # fail now, not at the first ingest, on an unknown model
        return self.store.create_kb(self.workspace_id, name, chosen, settings)

    def kb(self, name: str) -> KnowledgeBase:
        """The knowledge base called ``name`` in this workspace."""
        return self.store.get_kb(self.workspace_id, name)

    def list_kbs(self) -> list[KnowledgeBase]:
        """Every knowledge base in this workspace."""
        return self.store.list_kbs(self.workspace_id)

    def delete_kb(self, name: str) -> None:
        """Delete a knowledge base and everything in it."""
        self.store.delete_kb(self.kb(name).id)
        self.vectors.invalidate()

    def stats(self, name: str | None = None) -> dict[str, dict[str, int]]:
        """Document and chunk counts per knowledge base."""
        kbs = [self.kb(name)] if name else self.list_kbs()
        return {kb.name: self.store.kb_stats(kb.id) for kb in kbs}

    # -- ingestion ------------------------------------------------------------------------
    def _pipeline(self, kb: KnowledgeBase) -> Pipeline:
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
        return Pipeline(self.store, self.parser, self.embedder(kb.embedder), options, hooks)

    def ingest(
        self,
        kb_name: str,
        paths: Iterable[str | Path],
        *,
        metadata: dict[str, Any] | None = None,
        listener: IngestListener | None = None,
    ) -> IngestReport:
        """Ingest files, folders (recursively) and globs; ``source`` is the absolute path."""
        kb = self.kb(kb_name)
        files = expand_paths(paths)
        items = (SourceItem(str(p), path=p, metadata=dict(metadata or {})) for p in files)
        return self._pipeline(kb).run(kb, items, listener)

    def ingest_items(
        self,
        kb_name: str,
        items: Iterable[SourceItem],
        listener: IngestListener | None = None,
        *,
        sweep: Sweep = "parsed",
    ) -> IngestReport:
        """Ingest in-memory items (uploads, generated documents); ``sweep``: what else to
        embed first (see ``Pipeline.run``)."""
        kb = self.kb(kb_name)
        return self._pipeline(kb).run(kb, items, listener, sweep=sweep)

    def documents(self, kb_name: str, status: str | None = None) -> list[Document]:
        """Documents of a knowledge base."""
        return self.store.list_documents(self.kb(kb_name).id, status)

    def document(self, kb_name: str, ref: int | str) -> Document:
        """A document by id or by source (path as ingested)."""
        kb = self.kb(kb_name)
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            doc = self.store.get_document(int(ref))
            if doc.kb_id != kb.id:
                raise NotFound(f"document {ref} does not exist")
            return doc
        found = self.store.find_document(kb.id, ref) or self.store.find_document(
            kb.id, str(Path(ref).expanduser().resolve())
        )
        if found is None:
            raise NotFound(f"document '{ref}' does not exist")
        return found

    def delete_document(self, kb_name: str, ref: int | str) -> Document:
        """Delete a document with its chunks, vectors and full-text rows."""
        doc = self.document(kb_name, ref)
        self.store.delete_document(doc.id)
        return doc

    def chunks(self, kb_name: str, ref: int | str) -> list[Chunk]:
        """The chunks of a document, in order."""
        return self.store.list_chunks(self.document(kb_name, ref).id)

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
        if old_model != new.model_id:
            self.store.drop_vectors(kb.id, old_model)
        return report

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
    ) -> list[Hit]:
        """Hybrid (or keyword / vector) search over one or more knowledge bases.

        ``reranker`` (provider/model of a provider of kind rerank; default: the first
        knowledge base's ``reranker`` setting) reorders the top ``rerank_top_n`` fused
        candidates; if it fails, the fused order stands (``Hit.reranked`` is False)."""
        if not query.strip():
            raise InvalidInput("the query is empty")
        names = [kbs] if isinstance(kbs, str) else list(kbs)
        if is_graph_mode(mode):  # local | global | mix: zhiku.graph.retrieve
            from zhiku.graph.retrieve import graph_search

            return graph_search(self, names, query, mode, top_k=top_k, filters=filters,
                                min_relevance=min_relevance)
        s = self.settings
        params = SearchParams(
            top_k=top_k or s.top_k,
            mode=mode,
            fusion=fusion or s.fusion,
            rrf_k=s.rrf_k,
            vector_weight=s.vector_weight if vector_weight is None else vector_weight,
            candidates=candidates or s.candidates,
            min_relevance=min_relevance,
            filters=SearchFilters.model_validate(filters) if isinstance(filters, dict) else filters,
        )
        if params.fusion not in ("rrf", "weighted"):
            raise InvalidInput("fusion is 'rrf' or 'weighted'")
        kbs_ = [self.kb(n) for n in names]
        ref = reranker or next((str(k.settings["reranker"]) for k in kbs_
                                if k.settings.get("reranker")), None)
        if ref is None:
            return self.searcher.search(kbs_, query, params)
        from zhiku.retrieval.rerank import RERANK_TOP_N, rerank

        wanted = params.top_k
        top_n = rerank_top_n or next((int(k.settings["rerank_top_n"]) for k in kbs_
                                      if k.settings.get("rerank_top_n")), RERANK_TOP_N)
        params.top_k = max(wanted, top_n)
        hits = self.searcher.search(kbs_, query, params)
        return rerank(hits, query, lambda: self.llm.providers.reranker(ref), top_n)[:wanted]

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

    # -- models, assistants and chat (issue 3) --------------------------------------------
    @property
    def llm(self) -> LLMServices:
        """Providers, assistants, conversations and the call log of this workspace."""
        with self._lock:
            if getattr(self, "_llm", None) is None:
                from zhiku.chat.wiring import LLMServices, retrieval_kwargs

                def search(kbs: list[str], query: str, config: RetrievalConfig) -> list[Hit]:
                    return self.search(kbs, query, **retrieval_kwargs(config))  # type: ignore[arg-type]

                self._llm = LLMServices.build(
                    self.db, self.workspace_id, self.settings.home, search
                )
            return self._llm

    def add_provider(
        self, name: str, *, preset: str | None = None, api_key: str | None = None,
        replace: bool = False, **config: Any,
    ) -> ProviderConfig:
        """Store a provider (from a preset or explicit base_url/models); the key is encrypted."""
        from zhiku.models.llm.config import ProviderConfig as Config
        from zhiku.models.llm.providers import from_preset

        cfg = from_preset(preset, name, **config) if preset else Config(name=name, **config)
        return self.llm.providers.add(cfg, api_key, replace=replace)

    def list_providers(self) -> list[ProviderConfig]:
        """Every configured provider (never their keys)."""
        return self.llm.providers.list()

    def test_provider(self, name: str, model: str | None = None) -> dict[str, object]:
        """One tiny real call: latency, or the exact failure."""
        return self.llm.test_provider(name, model)

    def create_assistant(self, name: str, *, slug: str | None = None, **config: Any) -> Assistant:
        """A new assistant; ``config`` holds AssistantConfig fields (knowledge_bases, model…).
        Without a ``model`` it answers extractively (no LLM), through the same chat path."""
        from zhiku.apps.types import AssistantConfig

        checked = AssistantConfig.model_validate(config)
        for kb in checked.knowledge_bases:
            self.kb(kb)  # NotFound now rather than at the first chat
        return self.llm.assistants.create(name, checked, slug)

    def update_assistant(self, app: str, **changes: Any) -> Assistant:
        """Edit an assistant's draft."""
        return self.llm.assistants.update(app, **changes)

    def publish_assistant(self, app: str, note: str | None = None) -> int:
        """Freeze the draft as a new live version; returns its number."""
        return self.llm.assistants.publish(app, note)

    def delete_assistant(self, app: str) -> None:
        """Delete an assistant and its versions (its conversations stay, detached)."""
        self.llm.assistants.delete(app)

    def get_assistant(self, app: str) -> Assistant:
        """An assistant by slug or name."""
        return self.llm.assistants.get(app)

    def list_assistants(self) -> list[Assistant]:
        """Every assistant of the workspace."""
        return self.llm.assistants.list()

    def ask_app(
        self, app: str, question: str, cancel: CancelToken | None = None
    ) -> GroundedAnswer:
        """A one-shot grounded answer from an assistant (nothing stored but the call log)."""
        return self.llm.engine.ask(app, question, cancel)

    def chat(
        self, app: str, message: str, conversation_id: int | None = None, *,
        stream: bool = False, cancel: CancelToken | None = None,
    ) -> ChatTurn | ChatStream:
        """One turn of a stored conversation; ``stream=True`` returns an iterable of events."""
        if stream:
            return self.llm.engine.stream(app, message, conversation_id, cancel)
        return self.llm.engine.turn(app, message, conversation_id, cancel)

    def list_conversations(self, app: str | None = None) -> list[dict[str, Any]]:
        """Stored conversations (of one assistant), most recent first."""
        owner = None if app is None else self.llm.assistants.get(app).id
        return self.llm.conversations.list(owner)

    def conversation(self, conversation_id: int) -> list[StoredMessage]:
        """The messages of a conversation."""
        return self.llm.conversations.messages(conversation_id)

    def model_calls(self, conversation_id: int | None = None) -> list[dict[str, Any]]:
        """Recorded model calls (tokens, latency, TTFT, cost, app, conversation)."""
        return self.llm.calls.calls(conversation_id)
