"""Markdown (``.md``, ``.markdown``) via markdown-it-py tokens."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.parsers.spreadsheet import row_text
from zhiku.ingest.parsers.text import unwrap
from zhiku.text.encoding import decode_text


def _table_rows(tokens: list[Token], start: int) -> tuple[list[Block], int]:
    """Collect a table starting at ``tokens[start]`` (``table_open``); return rows and end index."""
    header: list[str] = []
    rows: list[list[str]] = []
    current: list[str] = []
    in_head = False
    i = start
    while i < len(tokens) and tokens[i].type != "table_close":
        tok = tokens[i]
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            current = []
        elif tok.type == "inline":
            current.append(tok.content.strip())
        elif tok.type == "tr_close":
            if in_head:
                header = current
            else:
                rows.append(current)
        i += 1
    blocks = [Block(BlockKind.TABLE_ROW, row_text(header, r)) for r in rows]
    return [b for b in blocks if b.text], i


class MarkdownParser:
    """Headings, paragraphs, list items, fenced code and table rows."""

    extensions: tuple[str, ...] = ("md", "markdown")

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse markdown into blocks; the title is the first level-1 heading."""
        text, encoding = decode_text(data)
        tokens = MarkdownIt("commonmark").enable("table").parse(text)
        blocks: list[Block] = []
        title: str | None = None
        list_depth = 0
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.type in ("bullet_list_open", "ordered_list_open"):
                list_depth += 1
            elif tok.type in ("bullet_list_close", "ordered_list_close"):
                list_depth -= 1
            elif tok.type == "heading_open":
                level = int(tok.tag[1:])
                content = tokens[i + 1].content.strip()
                if content:
                    blocks.append(Block(BlockKind.HEADING, content, level=level))
                    if level == 1 and title is None:
                        title = content
                i += 2
            elif tok.type == "inline" and tok.content.strip():
                kind = BlockKind.LIST_ITEM if list_depth else BlockKind.PARAGRAPH
                blocks.append(Block(kind, unwrap(tok.content)))
            elif tok.type in ("fence", "code_block") and tok.content.strip():
                meta = {"language": tok.info.strip()} if tok.info.strip() else {}
                blocks.append(Block(BlockKind.CODE, tok.content.rstrip("\n"), meta=meta))
            elif tok.type == "table_open":
                rows, i = _table_rows(tokens, i)
                blocks.extend(rows)
            i += 1
        return ParsedDocument(blocks=blocks, title=title, meta={"encoding": encoding})
