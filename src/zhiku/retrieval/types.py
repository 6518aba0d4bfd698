"""What a search returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Mode = Literal["hybrid", "keyword", "vector"]


@dataclass(slots=True)
class Hit:
    """One retrieved chunk with where it comes from and how each retriever scored it.

    ``text`` is what a reader or an answerer should see: the chunk itself, or its parent section
    (parent-child chunking) or FAQ answer; ``matched_text`` is the chunk that matched.
    """

    chunk_id: int
    document_id: int
    kb_id: int
    source: str
    title: str | None
    text: str
    matched_text: str
    heading_path: list[str]
    page: int | None
    score: float
    relevance: float
    scores: dict[str, float | None] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    reranked: bool | None = None  # None: no reranker; False: fused order kept (failure, past N)

    @property
    def location(self) -> str:
        """A human pointer into the source: page and/or heading path."""
        parts = []
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.heading_path:
            parts.append(" > ".join(self.heading_path))
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["location"] = self.location
        return data
