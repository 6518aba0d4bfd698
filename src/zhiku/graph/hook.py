"""Extraction during ingestion: a ``DocumentHook`` that feeds each written document's chunks to
the rules extractor when its knowledge base has the ``graph`` setting on."""

from __future__ import annotations

from collections.abc import Sequence

from zhiku.graph import extract_rules
from zhiku.graph.store import GraphStore
from zhiku.graph.types import ChunkText, Extraction
from zhiku.store.records import KnowledgeBase

RULES = "rules-v1"


def extract_chunks(chunks: Sequence[ChunkText]) -> list[tuple[ChunkText, Extraction]]:
    """The rules extraction of each chunk (pure)."""
    return [(c, extract_rules.extract(c.text, c.heading_path)) for c in chunks]


def graph_enabled(kb: KnowledgeBase) -> bool:
    """Whether the knowledge base extracts a graph during ingestion."""
    return bool(kb.settings.get("graph", False))


class GraphHook:
    """Runs the fast extractor on each document the pipeline writes (graph=True only)."""

    def __init__(self, graph: GraphStore) -> None:
        self._graph = graph

    def document_written(self, kb: KnowledgeBase, document_id: int) -> None:
        """Extract entities and relations from the document's chunks and store them."""
        if not graph_enabled(kb):
            return
        chunks = self._graph.document_chunks(document_id)
        if chunks:
            self._graph.write(kb.id, extract_chunks(chunks), RULES)
