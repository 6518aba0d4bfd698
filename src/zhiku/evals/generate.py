"""Synthetic eval questions from a knowledge base's chunks.

A ``QuestionGenerator`` writes questions about one passage (an LLM behind a plain callable, or
anything deterministic in tests). Questions are de-duplicated, and a question is kept only if
its source chunk is retrieved in the top ``k`` by at least one method (keyword, vector,
hybrid): a question nothing can find measures the generator, not the retrieval.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from zhiku.evals.metrics.answers import tokens
from zhiku.evals.normalize import question_key
from zhiku.evals.types import EvalQuestion
from zhiku.retrieval.search import Mode

if TYPE_CHECKING:
    from zhiku.service import Zhiku

METHODS: tuple[Mode, ...] = ("keyword", "vector", "hybrid")
PROMPT = (
    "Write {n} question(s) that the passage below answers, in the passage's language. "
    "One question per line, no numbering, nothing else.\n\nPassage:\n{text}"
)
_NUMBERING = re.compile(r"^\s*(?:[-*•]|\d+[.)、]|Q\d*[:：])\s*")


class QuestionGenerator(Protocol):
    """Writes questions that a passage answers."""

    def generate(self, passage: str, n: int) -> list[str]:
        """Up to ``n`` questions about ``passage``."""
        ...


class LLMQuestionGenerator:
    """Prompts a completion callable (prompt in, text out) and reads one question per line."""

    def __init__(self, complete: Callable[[str], str], prompt: str = PROMPT) -> None:
        self._complete = complete
        self._prompt = prompt

    def generate(self, passage: str, n: int) -> list[str]:
        """Ask the model and parse its lines."""
        reply = self._complete(self._prompt.format(n=n, text=passage))
        lines = (_NUMBERING.sub("", line).strip() for line in reply.splitlines())
        return [line for line in lines if len(line) > 3][:n]


@dataclass(slots=True)
class SourceChunk:
    """A chunk questions are generated from."""

    chunk_id: int
    source: str
    text: str


def sample_chunks(zk: Zhiku, kb: str, limit: int, seed: int = 0,
                  min_chars: int = 80) -> list[SourceChunk]:
    """Up to ``limit`` searchable chunks of ``kb`` chosen at random (seeded)."""
    kb_id = zk.kb(kb).id
    rows = zk.db.conn.execute(
        "SELECT c.id, d.source, c.text FROM chunks c JOIN documents d ON d.id = c.document_id "
        "WHERE c.kb_id = ? AND c.searchable = 1 AND c.enabled = 1 AND length(c.text) >= ? "
        "ORDER BY c.id", (kb_id, min_chars)).fetchall()
    chosen = random.Random(seed).sample(rows, min(limit, len(rows)))
    return [SourceChunk(r[0], r[1], r[2]) for r in sorted(chosen, key=lambda r: r[0])]


def near_duplicate(a: Sequence[str], b: Sequence[str], threshold: float) -> bool:
    """Token-set Jaccard similarity at or above ``threshold``."""
    sa, sb = set(a), set(b)
    union = sa | sb
    return bool(union) and len(sa & sb) / len(union) >= threshold


def deduplicate(items: Sequence[tuple[str, SourceChunk]],
                threshold: float = 0.8) -> list[tuple[str, SourceChunk]]:
    """Drop exact (normalised) and near duplicates, keeping the first of each."""
    kept: list[tuple[str, SourceChunk]] = []
    keys: set[str] = set()
    toks: list[list[str]] = []
    for question, chunk in items:
        key = question_key(question)
        t = tokens(question)
        if not key or key in keys or any(near_duplicate(t, o, threshold) for o in toks):
            continue
        keys.add(key)
        toks.append(t)
        kept.append((question, chunk))
    return kept


def retrieved_by_any(zk: Zhiku, kb: str, question: str, chunk_id: int, k: int,
                     methods: Sequence[Mode] = METHODS) -> bool:
    """True when some method puts ``chunk_id`` in its top ``k`` for ``question``."""
    return any(chunk_id in {h.chunk_id for h in zk.search(kb, question, top_k=k, mode=m)}
               for m in methods)


def generate(zk: Zhiku, kb: str, generator: QuestionGenerator, *, chunks: int = 50,
             per_chunk: int = 1, k: int = 10, seed: int = 0,
             methods: Sequence[Mode] = METHODS) -> list[EvalQuestion]:
    """Questions about sampled chunks, de-duplicated and filtered by retrievability."""
    raw = [(q, c) for c in sample_chunks(zk, kb, chunks, seed)
           for q in generator.generate(c.text, per_chunk)]
    return list(_kept(zk, kb, deduplicate(raw), k, methods))


def _kept(zk: Zhiku, kb: str, items: Sequence[tuple[str, SourceChunk]], k: int,
          methods: Sequence[Mode]) -> Iterator[EvalQuestion]:
    for n, (question, chunk) in enumerate(items, 1):
        if retrieved_by_any(zk, kb, question, chunk.chunk_id, k, methods):
            yield EvalQuestion(question=question, ext_id=f"gen-{n}",
                               expected_sources={chunk.source: 1},
                               expected_chunks={chunk.chunk_id: 1}, tags=["synthetic"],
                               metadata={"chunk_id": chunk.chunk_id})
