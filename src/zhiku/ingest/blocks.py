"""The structured blocks every parser emits, so chunks keep their context."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class BlockKind(StrEnum):
    """What a block is; the chunker treats each kind differently."""

    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    TABLE_ROW = "table_row"  # one row, rendered with its header ("col: value; ...")
    CODE = "code"
    FAQ = "faq"  # one question/answer pair: ``text`` is the question, ``answer`` the answer


@dataclass(slots=True)
class Block:
    """One structural unit of a document.

    ``level`` is the heading depth (1 = top) for headings and 0 otherwise; ``page`` is 1-based
    where the format has pages (PDF pages, slides, sheets are named in ``section``).
    """

    kind: BlockKind
    text: str
    level: int = 0
    page: int | None = None
    section: str | None = None  # a sheet or slide title that is not itself a heading
    answer: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ParsedDocument:
    """What a parser returns: the blocks in reading order and document-level facts."""

    blocks: list[Block]
    title: str | None = None
    pages: int | None = None
    meta: dict[str, str] = field(default_factory=dict)
