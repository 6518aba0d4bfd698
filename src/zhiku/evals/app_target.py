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
    from zhiku.apps.types import AssistantConfig
    from zhiku.service import Zhiku


class AppTarget:
    """An assistant, by slug or name. ``mode`` is accepted for symmetry and must be hybrid.

    ``config`` (with its ``label``, e.g. ``draft`` or ``v3``): question that configuration of
    the assistant instead of its live one.
    """

    def __init__(self, zk: Zhiku, app: str, mode: Mode = "hybrid", *,
                 config: AssistantConfig | None = None, label: str = "") -> None:
        self._zk = zk
        self.slug = zk.get_assistant(app).slug  # fail now on an unknown assistant
        self.mode: Mode = mode
        self._config = config
        self._label = label

    @property
    def name(self) -> str:
        """``app:SLUG``, or ``app:SLUG@LABEL`` for a chosen configuration."""
        return f"app:{self.slug}" + (f"@{self._label}" if self._label else "")

    def run(self, question: str, top_k: int, with_answer: bool) -> TargetOutput:
        """Answer with the assistant's model, or only search the way it does."""
        if with_answer:
            if self._config is None:
                stream = self._zk.chat(self.slug, question, stream=True, store=False)
            else:
                stream = self._zk.llm.engine.stream(self.slug, question, store=False,
                                                    config=self._config)
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
        live = self._config or self._zk.get_assistant(self.slug).live
        retrieval = live.retrieval
        hits = self._zk.search(live.knowledge_bases, question, top_k=top_k, mode=self.mode,
                               fusion=retrieval.fusion, filters=retrieval.filters)
        return TargetOutput(hits=hits)
