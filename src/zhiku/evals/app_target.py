"""Evaluating an assistant (issue 3): its retrieval settings, its model's answers, tokens.

Only the facade is used (``get_assistant``, ``ask_app``, ``search``), so the assistant's live
configuration — knowledge bases, fusion, filters, relevance floor, model — is what is measured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhiku.evals.targets import TargetOutput
from zhiku.evals.types import Usage
from zhiku.retrieval.search import Mode

if TYPE_CHECKING:
    from zhiku.service import Zhiku


class AppTarget:
    """An assistant, by slug or name. ``mode`` is accepted for symmetry and must be hybrid."""

    def __init__(self, zk: Zhiku, app: str, mode: Mode = "hybrid") -> None:
        self._zk = zk
        self.slug = zk.get_assistant(app).slug  # fail now on an unknown assistant
        self.mode: Mode = mode

    @property
    def name(self) -> str:
        """``app:SLUG``."""
        return f"app:{self.slug}"

    def run(self, question: str, top_k: int, with_answer: bool) -> TargetOutput:
        """Answer with the assistant's model, or only search the way it does."""
        if with_answer:
            answer = self._zk.ask_app(self.slug, question)
            usage = Usage(prompt_tokens=answer.usage.input_tokens,
                          completion_tokens=answer.usage.output_tokens)
            return TargetOutput(hits=answer.hits[:top_k], answer=answer, usage=usage)
        live = self._zk.get_assistant(self.slug).live
        retrieval = live.retrieval
        hits = self._zk.search(live.knowledge_bases, question, top_k=top_k, mode=self.mode,
                               fusion=retrieval.fusion, filters=retrieval.filters)
        return TargetOutput(hits=hits)
