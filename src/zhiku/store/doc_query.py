"""What a page of a knowledge base's documents asks for: filters, order and window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DocumentSort = Literal["name", "created", "size", "chunks", "status", "format"]

SORT_COLUMNS: dict[str, str] = {
    "name": "d.source",
    "created": "d.created_at",
    "size": "d.size_bytes",
    "chunks": "d.chunk_count",
    "status": "d.status",
    "format": "d.format",
}
"""Each sort key's column over the ``documents`` alias ``d`` (ties broken by id)."""


@dataclass(frozen=True, slots=True)
class DocumentQuery:
    """Documents of one knowledge base: with this ``status`` and ``tag`` (when set), whose
    source or title contains ``text`` (case-insensitive), ordered by ``sort``, ``offset`` rows
    skipped and at most ``limit`` returned (None: all)."""

    status: str | None = None
    tag: str | None = None
    text: str | None = None
    sort: DocumentSort = "name"
    descending: bool = False
    limit: int | None = None
    offset: int = 0


def like_pattern(text: str) -> str:
    """A ``LIKE … ESCAPE '\\'`` pattern matching ``text`` anywhere, lower-cased."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
