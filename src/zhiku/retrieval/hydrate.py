"""Hydration: a fused list of ``(chunk id, score)`` becomes hits, best first.

Chunks are read window by window (a small first window, larger ones only when chunks were
dropped), with the parent sections and documents they need. Disabled chunks are skipped, and so
is a chunk whose context (its parent section, or itself) an earlier hit already shows: a reader
sees each passage once. Chunks of documents the reader may not read are skipped too (the
candidates were already searched among readable chunks; this holds for any list a caller
brings). What a hit scores is up to the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from zhiku.retrieval.types import Hit
from zhiku.store.protocols import Store
from zhiku.store.reader import Reader
from zhiku.store.records import Chunk, Document


@dataclass(frozen=True, slots=True)
class Window:
    """The chunks of one window of a fused list, with their parent sections and documents."""

    ids: list[int]
    chunks: Mapping[int, Chunk]
    parents: Mapping[int, Chunk]
    docs: Mapping[int, Document]

    def context(self, chunk: Chunk) -> Chunk | None:
        """The parent section shown in place of ``chunk`` (None: the chunk itself)."""
        return self.parents.get(chunk.parent_id) if chunk.parent_id is not None else None


HitMaker = Callable[[Chunk, float], "Hit | None"]
"""Makes the hit of one enabled chunk with its fused score; None drops the chunk."""


def context_id(chunk: Chunk) -> int:
    """The id of what a reader sees for ``chunk``: its parent section, or itself."""
    return chunk.parent_id if chunk.parent_id is not None else chunk.id


def load_window(store: Store, ids: Sequence[int], reader: Reader) -> Window:
    """Read ``ids`` with their parent sections and documents (three queries), leaving out
    chunks of documents ``reader`` may not read."""
    chunks = store.get_chunks(list(ids))
    docs = store.documents_by_id(c.document_id for c in chunks.values())
    closed = [d.id for d in docs.values() if d.restricted]
    if closed and not reader.unlimited:
        groups = store.document_groups(closed)
        hidden = {d for d in closed if not reader.may_read(True, groups.get(d, ()))}
        chunks = {cid: c for cid, c in chunks.items() if c.document_id not in hidden}
        docs = {d: doc for d, doc in docs.items() if d not in hidden}
    parents = store.get_chunks([c.parent_id for c in chunks.values() if c.parent_id is not None])
    return Window(list(ids), chunks, parents, docs)


def hydrate(
    store: Store,
    fused: Sequence[tuple[int, float]],
    top_k: int,
    maker: Callable[[Window], HitMaker],
    min_relevance: float = 0.0,
    *,
    reader: Reader,
) -> list[Hit]:
    """Hits for ``fused`` in its order, until ``top_k`` reach ``min_relevance``.

    ``maker(window)`` makes the hits of a window's chunks (it may read what the whole window
    needs at once). Every hit it returns is kept, those under ``min_relevance`` too (for a
    caller that raises relevance afterwards); only those that reach it count towards
    ``top_k``."""
    made: list[Hit] = []
    counted = 0
    seen_context: set[int] = set()
    start, size = 0, top_k + 2
    while start < len(fused) and counted < top_k:
        window = fused[start : start + size]
        start, size = start + size, top_k * 3
        loaded = load_window(store, [cid for cid, _ in window], reader)
        make = maker(loaded)
        for cid, score in window:
            chunk = loaded.chunks.get(cid)
            if chunk is None or not chunk.enabled or context_id(chunk) in seen_context:
                continue
            hit = make(chunk, score)
            if hit is None:
                continue
            seen_context.add(context_id(chunk))
            made.append(hit)
            if hit.relevance >= min_relevance:
                counted += 1
                if counted >= top_k:
                    break
    return made


def make_hit(
    chunk: Chunk,
    parent: Chunk | None,
    doc: Document,
    score: float,
    relevance: float,
    scores: dict[str, float | None],
) -> Hit:
    """The hit for ``chunk``: the text a reader sees is its parent section when it has one."""
    return Hit(
        chunk_id=chunk.id,
        document_id=chunk.document_id,
        kb_id=chunk.kb_id,
        source=doc.source,
        title=doc.title,
        text=parent.text if parent is not None else chunk.text,
        matched_text=chunk.text,
        heading_path=chunk.heading_path,
        page=chunk.page,
        score=score,
        relevance=round(relevance, 4),
        scores=scores,
        metadata=dict(doc.metadata),
    )
