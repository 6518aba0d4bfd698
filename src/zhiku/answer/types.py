"""Answers and citations, as every answerer returns them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from zhiku.retrieval.types import Hit


def original_url(metadata: dict[str, Any]) -> str | None:
    """The http(s) address a document came from, from its ``url`` metadata."""
    url = metadata.get("url")
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


@dataclass(slots=True)
class Citation:
    """A numbered pointer from the answer into one retrieved chunk."""

    n: int
    source: str
    document_id: int
    chunk_id: int
    title: str | None
    location: str
    page: int | None
    heading_path: list[str]
    score: float
    text: str  # the cited passage
    quote: str = ""  # the sentence(s) of the passage the answer relies on
    url: str | None = None  # the original's web address (a synced page, a fetched URL)

    @classmethod
    def from_hit(cls, n: int, hit: Hit, quote: str = "") -> Citation:
        """Cite ``hit`` as number ``n``."""
        return cls(
            n=n,
            source=hit.source,
            document_id=hit.document_id,
            chunk_id=hit.chunk_id,
            title=hit.title,
            location=hit.location,
            page=hit.page,
            heading_path=list(hit.heading_path),
            score=hit.score,
            text=hit.text,
            quote=quote,
            url=original_url(hit.metadata),
        )


UngroundedReason = Literal["no_citation", "invalid_citations"]
"""Why a model's answer is not grounded: it cited nothing, or every citation it made pointed at
a document it was not given (and was removed)."""
UngroundedPolicy = Literal["warn", "extractive", "refuse"]
"""What an ungrounded model answer becomes: kept with a warning, replaced by the extractive
answer over the same passages, or replaced by the refusal."""


@dataclass(slots=True)
class Answer:
    """An answer with its citations; ``refused`` when the knowledge base does not say.

    ``grounded``: the text as given makes no claim without a valid citation (cited answers and
    refusals are grounded). ``ungrounded_reason`` and ``ungrounded_action`` say why the model's
    answer was not grounded and what the assistant's policy made of it (None when it was).
    """

    answer: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    hits: list[Hit] = field(default_factory=list)
    grounded: bool = True
    ungrounded_reason: UngroundedReason | None = None
    ungrounded_action: UngroundedPolicy | None = None

    def to_dict(self, with_hits: bool = False) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = {
            "answer": self.answer,
            "refused": self.refused,
            "grounded": self.grounded,
            "ungrounded_reason": self.ungrounded_reason,
            "ungrounded_action": self.ungrounded_action,
            "citations": [asdict(c) for c in self.citations],
        }
        if with_hits:
            data["hits"] = [h.to_dict() for h in self.hits]
        return data


class Answerer(Protocol):
    """Turns a question and its retrieved hits into an answer (extractive, LLM, ...)."""

    def answer(self, question: str, hits: list[Hit]) -> Answer:
        """Answer ``question`` from ``hits`` only."""
        ...


REFUSAL = {
    "en": "The knowledge base does not say.",
    "zh": "知识库中没有相关内容。",
}
