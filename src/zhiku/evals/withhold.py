"""Stored eval results as one reader may see them.

A run reads as whoever started it, so its results can hold passages of documents that a later
reader of the run may not read. For that reader, such a passage keeps its chunk id, rank and
score (metrics and comparisons stay meaningful) but loses its source; the question's answer,
the citations that are not a shown passage's source, and the judge's reasons (any of which may
quote the passage) are withheld with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from zhiku.evals.types import QuestionResult, Retrieved
from zhiku.store.reader import Reader
from zhiku.store.records import Chunk, KnowledgeBase


class PassageScope(Protocol):
    """What deciding who may see a passage reads from the document store."""

    def get_chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """The chunks that still exist, by id."""
        ...

    def readable_documents(self, doc_ids: Iterable[int], reader: Reader) -> set[int]:
        """The ids among ``doc_ids`` that ``reader`` may read."""
        ...

    def hides_any(self, kb_ids: Sequence[int], reader: Reader) -> bool:
        """Whether ``reader`` might not read some document of these knowledge bases."""
        ...

    def list_kbs(self, workspace_id: int) -> list[KnowledgeBase]:
        """The knowledge bases of a workspace."""
        ...


@dataclass(frozen=True, slots=True)
class Sight:
    """What one reader may see of stored passages: ``chunks`` by id; ``everything`` when it
    may read every document of the workspace's knowledge bases (so what can no longer be
    checked, a deleted chunk or a citation of no retrieved passage, is shown to it)."""

    chunks: frozenset[int]
    everything: bool


def sight(scope: PassageScope, workspace_id: int, chunk_ids: Iterable[int],
          reader: Reader) -> Sight:
    """Which of ``chunk_ids`` ``reader`` may see: chunks of documents it may read, and chunks
    deleted since the run when it may read everything there is."""
    ids = set(chunk_ids)
    if reader.unlimited:
        return Sight(frozenset(ids), True)
    kbs = [kb.id for kb in scope.list_kbs(workspace_id)]
    if not scope.hides_any(kbs, reader):  # nothing hidden from it: no chunk to look up
        return Sight(frozenset(ids), True)
    chunks = scope.get_chunks(sorted(ids))
    readable = scope.readable_documents({c.document_id for c in chunks.values()}, reader)
    shown = {i for i in ids if i in chunks and chunks[i].document_id in readable}
    return Sight(frozenset(shown), False)


def withhold(result: QuestionResult, seen: Sight) -> QuestionResult:
    """``result`` without what its reader may not see (changed in place and returned)."""
    shown = {x.source for x in result.retrieved if x.chunk_id in seen.chunks}
    hidden = {x.source for x in result.retrieved if x.chunk_id not in seen.chunks}

    def cited(source: str) -> bool:
        return source in shown or (source not in hidden and seen.everything)

    if not hidden and all(cited(c) for c in result.citations):
        return result
    result.retrieved = [x if x.chunk_id in seen.chunks
                        else Retrieved(x.chunk_id, "", x.score, withheld=True)
                        for x in result.retrieved]
    result.citations = [c if cited(c) else "" for c in result.citations]
    result.answer = None
    if result.judge is not None:
        result.judge.reasons = ""
    result.withheld = True
    return result
