"""Plain records the stores read and write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class KnowledgeBase:
    """A named collection of documents in a workspace, with its own settings."""

    id: int
    workspace_id: int
    name: str
    embedder: str
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""


KbResolver = Callable[[str], KnowledgeBase]
"""The knowledge base called ``name`` in one workspace (raises ``NotFound``)."""


@dataclass(slots=True)
class Document:
    """One ingested file (or URL) and its processing state."""

    id: int
    kb_id: int
    source: str
    title: str | None
    content_hash: str
    format: str
    size_bytes: int
    status: str  # parsed | ready | error
    error: str | None
    chunk_count: int
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""
    restricted: bool = False  # read only by administrators and its groups' members


@dataclass(slots=True)
class NewChunk:
    """A chunk about to be written. ``parent`` is the index of its parent in the same batch."""

    text: str
    ord: int
    heading_path: list[str]
    page: int | None
    token_count: int
    terms: list[str]
    searchable: bool = True
    parent: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Chunk:
    """A stored chunk."""

    id: int
    document_id: int
    kb_id: int
    ord: int
    text: str
    heading_path: list[str]
    page: int | None
    token_count: int
    parent_id: int | None
    searchable: bool
    enabled: bool
    metadata: dict[str, Any] = field(default_factory=dict)
