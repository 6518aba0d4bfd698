"""What the LLM answerer returns: an ``Answer`` plus reasoning, flags and usage; stream events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from zhiku.answer.types import Answer
from zhiku.models.llm.types import Usage


@dataclass(slots=True)
class GroundedAnswer(Answer):
    """An LLM answer. ``flagged``: no valid citation survived verification."""

    reasoning: str = ""
    flagged: bool = False
    removed_citations: list[int] = field(default_factory=list)
    query: str = ""  # the standalone query retrieval used
    model: str = ""
    usage: Usage = field(default_factory=Usage)
    context_tokens: int = 0
    dropped_hits: int = 0
    moderated: bool = False  # replaced by the workspace moderation policy's reply

    def to_dict(self, with_hits: bool = False) -> dict[str, Any]:
        """JSON-ready form (the base fields plus the LLM ones)."""
        data = Answer.to_dict(self, with_hits)
        data.update(
            reasoning=self.reasoning,
            flagged=self.flagged,
            removed_citations=self.removed_citations,
            query=self.query,
            model=self.model,
            usage={"input_tokens": self.usage.input_tokens,
                   "output_tokens": self.usage.output_tokens},
            moderated=self.moderated,
        )
        return data


@dataclass(slots=True)
class AnswerEvent:
    """One streamed event: a piece of answer or reasoning text, or the final answer."""

    kind: Literal["token", "reasoning", "answer"]
    text: str = ""
    answer: GroundedAnswer | None = None
