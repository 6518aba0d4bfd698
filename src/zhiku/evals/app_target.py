"""Evaluating an assistant (issue 3): its retrieval settings, its model's answers, tokens.

The facade (``get_assistant``, ``search``) and the chat engine's one-shot turn (what ``ask_app``
runs) are used, so the assistant's live configuration — knowledge bases, fusion, filters,
relevance floor, model — is what is measured. Tokens and cost per question are the sum of the
turn's model calls as issue 3 accounts them (the records it writes to ``model_calls``).
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
            turn = self._zk.llm.engine.stream(self.slug, question, store=False)
            answer = None
            for event in turn:
                if event.answer is not None:
                    answer = event.answer
            if answer is None:  # pragma: no cover - a chat stream always ends with an answer
                raise AssertionError("the assistant gave no answer")
            calls = turn.calls  # every call of the turn (a refusal makes none: costs 0)
            usage = Usage(prompt_tokens=sum(c.usage.input_tokens for c in calls),
                          completion_tokens=sum(c.usage.output_tokens for c in calls),
                          cost=sum(c.cost for c in calls))
            return TargetOutput(hits=answer.hits[:top_k], answer=answer, usage=usage)
        live = self._zk.get_assistant(self.slug).live
        retrieval = live.retrieval
        hits = self._zk.search(live.knowledge_bases, question, top_k=top_k, mode=self.mode,
                               fusion=retrieval.fusion, filters=retrieval.filters)
        return TargetOutput(hits=hits)
