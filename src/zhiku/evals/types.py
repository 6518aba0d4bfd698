"""Records shared by the evaluation modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class EvalQuestion:
    """One question of an eval set with what a good system should find and say.

    ``expected_sources`` maps a document key (a source path, its file name or stem, or a corpus
    id) to a graded relevance; ``expected_chunks`` does the same for chunk ids. ``answerable``
    is false when the right behaviour is to refuse.
    """

    question: str
    ext_id: str = ""
    expected_sources: dict[str, int] = field(default_factory=dict)
    expected_chunks: dict[int, int] = field(default_factory=dict)
    reference_answers: list[str] = field(default_factory=list)
    answerable: bool = True
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSONL form the importer reads back."""
        return {
            "id": self.ext_id,
            "question": self.question,
            "expected_sources": dict(self.expected_sources),
            "expected_chunks": {str(k): v for k, v in self.expected_chunks.items()},
            "reference_answers": list(self.reference_answers),
            "answerable": self.answerable,
            "tags": list(self.tags),
            "metadata": dict(self.metadata),
        }


@dataclass(slots=True)
class EvalSet:
    """A named eval set of a workspace."""

    id: int
    name: str
    description: str = ""
    origin: str = ""
    created_at: str = ""
    size: int = 0


@dataclass(slots=True)
class Retrieved:
    """One retrieved chunk as a run stores it (the passage text is looked up when reporting)."""

    chunk_id: int
    source: str
    score: float


@dataclass(slots=True)
class Usage:
    """Tokens and cost of one answer, when the target reports them."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None


@dataclass(slots=True)
class QuestionResult:
    """Everything a run records for one question."""

    ord: int
    ext_id: str
    question: str
    retrieved: list[Retrieved]
    metrics: dict[str, float]
    latency_ms: float
    question_id: int | None = None
    answer: str | None = None
    refused: bool | None = None
    citations: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    error: str | None = None
