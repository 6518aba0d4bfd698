"""Plain text (``.txt``, ``.text``, ``.log``): paragraphs separated by blank lines."""

from __future__ import annotations

import re

from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.text.encoding import decode_text

_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")


def split_paragraphs(text: str) -> list[str]:
    """Split on blank lines; strip each paragraph and drop empty ones."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    return [p.strip() for p in _BLANK_LINE.split(text) if p.strip()]


_SOFT_BREAK = re.compile(r"[ \t]*\n[ \t]*")


def unwrap(text: str) -> str:
    """Join hard-wrapped lines of one paragraph: no space between CJK characters, else one."""

    def join(m: re.Match[str]) -> str:
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        return "" if before > "\u2e80" or after > "\u2e80" else " "

    return _SOFT_BREAK.sub(join, text.strip())


class TextParser:
    """Decodes any common encoding and emits one paragraph block per blank-line paragraph."""

    extensions: tuple[str, ...] = ("txt", "text", "log")

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse plain text."""
        text, encoding = decode_text(data)
        blocks = [Block(BlockKind.PARAGRAPH, p) for p in split_paragraphs(text)]
        return ParsedDocument(blocks=blocks, meta={"encoding": encoding})
