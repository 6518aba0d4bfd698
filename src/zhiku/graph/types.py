"""Plain records shared by the graph modules: what extractors produce and the store returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Field = Literal["text", "heading"]


@dataclass(slots=True)
class Mention:
    """One entity occurrence in a chunk: ``start``/``end`` index the chunk text (or heading)."""

    name: str
    type: str = "entity"
    start: int | None = None
    end: int | None = None
    field: Field = "text"
    salience: float = 0.5
    description: str = ""


@dataclass(slots=True)
class Relation:
    """A relation between two entity names found in one chunk."""

    source: str
    target: str
    type: str = "co_occurs"
    weight: float = 1.0
    description: str = ""
    directed: bool = False


@dataclass(slots=True)
class Extraction:
    """Everything one extractor found in one chunk."""

    mentions: list[Mention] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)


@dataclass(slots=True)
class ChunkText:
    """What an extractor reads: a chunk's id, text and heading path."""

    chunk_id: int
    document_id: int
    text: str
    heading_path: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Node:
    """An entity as stored (``id`` is the canonical node when aliases were merged)."""

    id: int
    key: str
    name: str
    type: str
    mention_count: int
    description: str | None = None
    aliases: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Edge:
    """A relation between two canonical nodes, aggregated over its evidence."""

    source_id: int
    target_id: int
    type: str
    weight: float
    evidence_count: int
