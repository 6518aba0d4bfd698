"""What an eval run questions: a knowledge base (``kb``) or an assistant (``app``).

A target turns a question into retrieved hits and, when asked, an answer. New kinds of target
register a factory in ``TARGETS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from zhiku.answer.types import Answer
from zhiku.core.errors import InvalidInput
from zhiku.evals.types import Usage
from zhiku.retrieval.search import Mode
from zhiku.retrieval.types import Hit

if TYPE_CHECKING:
    from zhiku.service import Zhiku


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


class KbTarget:
    """A knowledge base searched with the core's search; answered with ``Zhiku.ask``."""

    def __init__(self, zk: Zhiku, kb: str, mode: Mode = "hybrid") -> None:
        zk.kb(kb)  # fail now on an unknown knowledge base
        self._zk = zk
        self.kb = kb
        self.mode: Mode = mode

    @property
    def name(self) -> str:
        """``kb:NAME`` (with the search mode unless hybrid)."""
        return f"kb:{self.kb}" + ("" if self.mode == "hybrid" else f"?mode={self.mode}")

    def run(self, question: str, top_k: int, with_answer: bool) -> TargetOutput:
        """Search, or ask (one search) when an answer is wanted."""
        if with_answer and self.mode == "hybrid":
            answer = self._zk.ask(self.kb, question, top_k=top_k)
            return TargetOutput(hits=answer.hits, answer=answer)
        hits = self._zk.search(self.kb, question, top_k=top_k, mode=self.mode)
        extra = self._zk.ask(self.kb, question, top_k=top_k) if with_answer else None
        return TargetOutput(hits=hits, answer=extra)


TargetFactory = Callable[["Zhiku", str, Mode], EvalTarget]

def _app_target(zk: Zhiku, name: str, mode: Mode) -> EvalTarget:
    from zhiku.evals.app_target import AppTarget  # imported here: it imports this module

    return AppTarget(zk, name, mode)


TARGETS: dict[str, TargetFactory] = {"kb": KbTarget, "app": _app_target}


def make_target(zk: Zhiku, kind: str, name: str, mode: Mode = "hybrid") -> EvalTarget:
    """The target of ``kind`` (``kb`` or ``app``) called ``name``."""
    factory = TARGETS.get(kind)
    if factory is None:
        raise InvalidInput(f"unknown evaluation target kind '{kind}'")
    return factory(zk, name, mode)
