"""Evaluating an assistant: its retrieval settings, its model's answers, tokens.

The facade (``get_assistant``, ``search``, and ``chat`` with nothing stored) is used, so the
assistant's live configuration — knowledge bases, fusion, filters, relevance floor, model — is
what is measured. Tokens and cost per question are the turn's
usage: the sum of its model calls (the records written to ``model_calls``).
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
            stream = self._zk.chat(self.slug, question, stream=True, store=False)
            answer = None
            for event in stream:
                if event.answer is not None:
                    answer = event.answer
            if answer is None or stream.usage is None:  # pragma: no cover - never: a chat
                raise AssertionError("the assistant gave no answer")  # stream ends answered
            # every call of the turn (a refusal makes none: costs 0)
            usage = Usage(prompt_tokens=stream.usage.input_tokens,
                          completion_tokens=stream.usage.output_tokens, cost=stream.usage.cost)
            return TargetOutput(hits=answer.hits[:top_k], answer=answer, usage=usage)
        live = self._zk.get_assistant(self.slug).live
        retrieval = live.retrieval
        hits = self._zk.search(live.knowledge_bases, question, top_k=top_k, mode=self.mode,
                               fusion=retrieval.fusion, filters=retrieval.filters)
        return TargetOutput(hits=hits)
