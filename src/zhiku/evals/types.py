"""Records shared by the evaluation modules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CITED_SOURCES = "cited_sources"
"""Metadata key of a question made from a corrected answer: the sources the answer cited
before it was corrected, sorted. They are not expected sources (the correction replaced that
answer, so its citations are not scored against), but the question's text and reference
answer may still paraphrase them, so they count when deciding whom it is withheld from."""


def source_names(citations: Iterable[Mapping[str, Any]]) -> list[str]:
    """The source names of stored citations, in order (citations without one skipped)."""
    return [str(c["source"]) for c in citations if c.get("source")]


def cited(sources: Iterable[str]) -> dict[str, list[str]]:
    """The metadata recording ``sources`` as a corrected answer's cited sources (empty when
    there are none)."""
    names = sorted({s for s in sources if s})
    return {CITED_SOURCES: names} if names else {}


@dataclass(slots=True)
class EvalQuestion:
    """One question of an eval set with what a good system should find and say.

    ``expected_sources`` maps a document key (a source path, its file name or stem, or a corpus
    id) to a graded relevance; ``expected_chunks`` does the same for chunk ids. ``answerable``
    is false when the right behaviour is to refuse. ``withheld``: it points at a document its
    reader may not read, so only its id, tags and ``answerable`` are shown
    (``zhiku.evals.withhold``).
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
    withheld: bool = False

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

    @property
    def cited_sources(self) -> list[str]:
        """The sources the answer it was made from cited before being corrected
        (``metadata["cited_sources"]``): never scored, but pointed at
        (``zhiku.evals.withhold``)."""
        names = self.metadata.get(CITED_SOURCES)
        return [n for n in names if isinstance(n, str) and n] if isinstance(names, list) else []

    def pointed_sources(self) -> set[str]:
        """The document names the question points at: its expected sources and the sources
        a corrected answer it was made from cited."""
        return {*self.expected_sources, *self.cited_sources}


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
    """One retrieved chunk as a run stores it (the passage text is looked up when reporting).
    ``withheld``: its reader may not read the chunk's document, so its source is left out."""

    chunk_id: int
    source: str
    score: float
    withheld: bool = False


@dataclass(slots=True)
class Usage:
    """Tokens and cost of one answer, when the target reports them."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None


@dataclass(slots=True)
class Verdict:
    """A judge model's scores of one answer: ``faithfulness`` (supported by the passages) and
    ``relevance`` (answers the question), each 1-5 as the judge gave them, with its reasons and
    what judging cost. ``error`` is set (and the scores are None) when no usable verdict came."""

    model: str
    faithfulness: float | None = None
    relevance: float | None = None
    reasons: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    cost: float | None = None
    attempts: int = 0
    error: str | None = None

    def metrics(self) -> dict[str, float]:
        """The scores normalised to 0..1 (1 → 0, 5 → 1), as run metrics; empty on error."""
        if self.faithfulness is None or self.relevance is None:
            return {}
        return {"faithfulness": (self.faithfulness - 1) / 4,
                "relevance": (self.relevance - 1) / 4}

    def to_dict(self) -> dict[str, Any]:
        """The stored JSON form."""
        return {
            "model": self.model, "faithfulness": self.faithfulness, "relevance": self.relevance,
            "reasons": self.reasons, "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens, "latency_ms": round(self.latency_ms, 3),
            "cost": self.cost, "attempts": self.attempts, "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """Read back what ``to_dict`` stored."""
        return cls(
            model=str(data.get("model", "")), faithfulness=data.get("faithfulness"),
            relevance=data.get("relevance"), reasons=str(data.get("reasons") or ""),
            input_tokens=int(data.get("input_tokens") or 0),
            output_tokens=int(data.get("output_tokens") or 0),
            latency_ms=float(data.get("latency_ms") or 0.0), cost=data.get("cost"),
            attempts=int(data.get("attempts") or 0), error=data.get("error"),
        )


@dataclass(slots=True)
class QuestionResult:
    """Everything a run records for one question. ``withheld``: some passage is hidden from
    its reader, so the answer, the citations of hidden passages and the judge's reasons are
    left out too (see ``zhiku.evals.withhold``)."""

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
    judge: Verdict | None = None
    withheld: bool = False
