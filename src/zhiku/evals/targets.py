"""What an eval run questions: a knowledge base (``kb``) or an assistant (``app``).

A target turns a question into retrieved hits and, when asked, an answer. The facade builds
targets by kind (``Zhiku.eval_target``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from zhiku.answer.types import Answer
from zhiku.evals.types import Usage
from zhiku.retrieval.search import Mode
from zhiku.retrieval.types import Hit
from zhiku.store.records import KnowledgeBase


@dataclass(slots=True)
class TargetOutput:
    """What a target returned for one question."""

    hits: list[Hit]
    answer: Answer | None = None
    usage: Usage = field(default_factory=Usage)


class EvalTarget(Protocol):
    """Something that answers eval questions."""

    @property
    def name(self) -> str:
        """A stable label such as ``kb:handbook`` or ``app:helpdesk``."""
        ...

    def run(self, question: str, top_k: int, with_answer: bool) -> TargetOutput:
        """Retrieve ``top_k`` hits for ``question`` and, if ``with_answer``, answer it."""
        ...


class KbSearch(Protocol):
    """Search and extractive answers over knowledge bases by name (``Zhiku`` offers both)."""

    def kb(self, name: str) -> KnowledgeBase:
        """The knowledge base called ``name``."""
        ...

    def search(
        self, kbs: str | Sequence[str], query: str, *, top_k: int | None = ..., mode: Mode = ...
    ) -> list[Hit]:
        """Ranked hits."""
        ...

    def ask(self, kbs: str | Sequence[str], question: str, *, top_k: int | None = ...) -> Answer:
        """An answer citing its hits, or a refusal."""
        ...


class KbTarget:
    """A knowledge base searched with the core's search; answered with its extractive ``ask``."""

    def __init__(self, searcher: KbSearch, kb: str, mode: Mode = "hybrid") -> None:
        searcher.kb(kb)  # fail now on an unknown knowledge base
        self._searcher = searcher
        self.kb = kb
        self.mode: Mode = mode

    @property
    def name(self) -> str:
        """``kb:NAME`` (with the search mode unless hybrid)."""
        return f"kb:{self.kb}" + ("" if self.mode == "hybrid" else f"?mode={self.mode}")

    def run(self, question: str, top_k: int, with_answer: bool) -> TargetOutput:
        """Search, or ask (one search) when an answer is wanted."""
        if with_answer and self.mode == "hybrid":
            answer = self._searcher.ask(self.kb, question, top_k=top_k)
            return TargetOutput(hits=answer.hits, answer=answer)
        hits = self._searcher.search(self.kb, question, top_k=top_k, mode=self.mode)
        extra = self._searcher.ask(self.kb, question, top_k=top_k) if with_answer else None
        return TargetOutput(hits=hits, answer=extra)
