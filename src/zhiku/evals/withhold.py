"""Stored eval results as one reader may see them.

A run reads as whoever started it, so its results can hold passages of documents that a later
reader of the run may not read. For that reader, such a passage keeps its chunk id, rank and
score (metrics and comparisons stay meaningful) but loses its source; the question's answer,
the citations that are not a shown passage's source, and the judge's reasons (any of which may
quote the passage) are withheld with it.

Eval questions are withheld the same way: a question pointing at a document the reader may not
read (an expected chunk's document, a document an expected source names, or, for a question
made from a corrected answer, a document that answer cited) may paraphrase or quote it, so such
a question is shown to that reader as its id, tags and ``answerable`` only, and its results as
metrics, chunk ids, ranks and scores only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from zhiku.evals.matching import source_keys
from zhiku.evals.types import EvalQuestion, QuestionResult, Retrieved
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

    def documents_named(self, kb_ids: Sequence[int], names: Iterable[str],
                        reader: Reader) -> list[tuple[str, bool]]:
        """``(source, readable by reader)`` of documents of these knowledge bases that
        ``names`` may name: enough to tell, per name, whether it names any and whether
        ``reader`` may read all it names (a few more may come: matched exactly here)."""
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
    if _limited_kbs(scope, workspace_id, reader) is None:
        return Sight(frozenset(ids), True)
    return Sight(frozenset(_readable_chunks(scope, ids, reader)), False)


def _limited_kbs(scope: PassageScope, workspace_id: int, reader: Reader) -> list[int] | None:
    """The workspace's knowledge bases when ``reader`` might not read some document of them;
    None when it reads everything there is (nothing to look up)."""
    if reader.unlimited:
        return None
    kbs = [kb.id for kb in scope.list_kbs(workspace_id)]
    return kbs if scope.hides_any(kbs, reader) else None


def _readable_chunks(scope: PassageScope, ids: set[int], reader: Reader) -> set[int]:
    """The chunks among ``ids`` that exist and whose document ``reader`` may read."""
    chunks = scope.get_chunks(sorted(ids))
    readable = scope.readable_documents({c.document_id for c in chunks.values()}, reader)
    return {i for i in ids if i in chunks and chunks[i].document_id in readable}


def _readable_names(scope: PassageScope, kbs: list[int], names: set[str],
                    reader: Reader) -> set[str]:
    """The names among ``names`` that name at least one document, each of them one
    ``reader`` may read (a name of no document may name a deleted one: not shown)."""
    named: dict[str, bool] = {}
    for source, readable in scope.documents_named(kbs, names, reader):
        for key in source_keys(source):
            if key in names:
                named[key] = named.get(key, True) and readable
    return {name for name, readable in named.items() if readable}


def hidden_questions(scope: PassageScope, workspace_id: int,
                     questions: Sequence[EvalQuestion], reader: Reader) -> set[int]:
    """The ids of the (stored) ``questions`` withheld from ``reader``: those pointing at a
    document it may not read (by an expected chunk, an expected source or a corrected answer's
    cited source), or, when it may not read everything, at a chunk or a document that no
    longer exists."""
    kbs = _limited_kbs(scope, workspace_id, reader)
    if kbs is None:
        return set()
    chunks = _readable_chunks(scope, {c for q in questions for c in q.expected_chunks}, reader)
    pointed = [q.pointed_sources() for q in questions]
    names = _readable_names(scope, kbs, {s for p in pointed for s in p}, reader)
    return {q.id for q, p in zip(questions, pointed, strict=True) if q.id is not None and (
        not chunks.issuperset(q.expected_chunks) or not names.issuperset(p))}


def blank(question: EvalQuestion) -> EvalQuestion:
    """A withheld question as its reader sees it: its id, tags and ``answerable``."""
    return EvalQuestion(question="", ext_id=question.ext_id, answerable=question.answerable,
                        tags=list(question.tags), id=question.id, withheld=True)


def shown_questions(scope: PassageScope, workspace_id: int,
                    questions: Sequence[EvalQuestion], reader: Reader) -> list[EvalQuestion]:
    """``questions`` as ``reader`` may see them: every one, those withheld blanked."""
    hidden = hidden_questions(scope, workspace_id, questions, reader)
    return [blank(q) if q.id in hidden else q for q in questions]


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


def withhold_all(result: QuestionResult) -> QuestionResult:
    """``result`` of a question withheld from its reader: metrics, the passages' chunk ids,
    ranks and scores only (changed in place and returned)."""
    result.question = ""
    result.retrieved = [Retrieved(x.chunk_id, "", x.score, withheld=True)
                        for x in result.retrieved]
    result.citations = []
    result.answer = None
    if result.judge is not None:
        result.judge.reasons = ""
    result.withheld = True
    return result
