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
from typing import Any

from zhiku.answer.extractive import ExtractiveAnswerer
from zhiku.answer.types import Answer, Answerer
from zhiku.core.errors import InvalidInput, NotFound
from zhiku.core.settings import Settings
from zhiku.ingest.chunking import ChunkingOptions
from zhiku.ingest.events import IngestListener, IngestReport
from zhiku.ingest.parsers.registry import ParseOptions, ParserRegistry, default_registry
from zhiku.ingest.pipeline import Pipeline, PipelineOptions, SourceItem
from zhiku.ingest.sources import expand_paths
from zhiku.models.embedders import Embedder, make_embedder
from zhiku.retrieval.search import HybridSearcher, Mode, SearchParams
from zhiku.retrieval.types import Hit
from zhiku.retrieval.vector import VectorIndex
from zhiku.store.filters import SearchFilters
from zhiku.store.records import Chunk, Document, KnowledgeBase
from zhiku.store.sqlite import SqliteStore

MULTILINGUAL_EMBEDDERS = frozenset({"use-multilingual"})
KB_SETTING_KEYS = frozenset({"chunk_tokens", "chunk_overlap", "parent_child", "graph"})


class Zhiku:
    """Zhiku's Python API over one workspace of one database."""

    def __init__(self, settings: Settings | None = None, workspace: str = "default") -> None:
        self.settings = settings or Settings()
        self.store = SqliteStore(self.settings.db_path)
        self.workspace_id = self.store.workspace_id(workspace, create=True)
        self._registry: ParserRegistry | None = None
        self._embedders: dict[str, Embedder] = {}
        self._lock = threading.Lock()
        self.vectors = VectorIndex(self.store)
        self.searcher = HybridSearcher(
            self.store, self.vectors, self.embedder, lambda name: name in MULTILINGUAL_EMBEDDERS
        )

    def close(self) -> None:
        """Release the database."""
        self.store.close()

    def __enter__(self) -> Zhiku:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- models ---------------------------------------------------------------------------
    def embedder(self, name: str) -> Embedder:
        """The embedder called ``name`` (loaded once per process)."""
        with self._lock:
            if name not in self._embedders:
                self._embedders[name] = make_embedder(name, self.settings)
            return self._embedders[name]

    @property
    def registry(self) -> ParserRegistry:
        """The parsers."""
        if self._registry is None:
            self._registry = default_registry()
        return self._registry

    # -- knowledge bases ------------------------------------------------------------------
    def create_kb(
        self, name: str, *, embedder: str | None = None, **settings: Any
    ) -> KnowledgeBase:
        """Create a knowledge base. Settings: chunk_tokens, chunk_overlap, parent_child, graph."""
        if not name or len(name) > 128 or "/" in name:
            raise InvalidInput("a knowledge base name is 1-128 characters without '/'")
        unknown = set(settings) - KB_SETTING_KEYS
        if unknown:
            raise InvalidInput(f"unknown knowledge base settings: {sorted(unknown)}")
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
            parse=ParseOptions(ocr=s.ocr),
            max_file_bytes=s.max_file_bytes,
            embed_batch_size=s.embed_batch_size,
        )
        return Pipeline(self.store, self.registry, self.embedder(kb.embedder), options)

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
        self, kb_name: str, items: Iterable[SourceItem], listener: IngestListener | None = None
    ) -> IngestReport:
        """Ingest in-memory items (uploads, generated documents)."""
        kb = self.kb(kb_name)
        return self._pipeline(kb).run(kb, items, listener)

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
        report = Pipeline(self.store, self.registry, new, self._pipeline(kb)._options).run(
            kb, [], listener
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
        mode: Mode = "hybrid",
        filters: SearchFilters | dict[str, Any] | None = None,
        fusion: str | None = None,
        min_relevance: float = 0.0,
        candidates: int | None = None,
        vector_weight: float | None = None,
    ) -> list[Hit]:
        """Hybrid (or keyword / vector) search over one or more knowledge bases."""
        if not query.strip():
            raise InvalidInput("the query is empty")
        names = [kbs] if isinstance(kbs, str) else list(kbs)
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
        return self.searcher.search([self.kb(n) for n in names], query, params)

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
