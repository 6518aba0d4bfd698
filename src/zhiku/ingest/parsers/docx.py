"""Word documents (``.docx``) via python-docx, in body order."""

from __future__ import annotations

import io
import re
import zipfile

from zhiku.core.errors import ParseError
from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.parsers.spreadsheet import table_blocks
from zhiku.ingest.parsers.zipguard import check_zip

_HEADING = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


def _paragraph_block(paragraph: object) -> Block | None:
    from docx.text.paragraph import Paragraph

    assert isinstance(paragraph, Paragraph)
    text = paragraph.text.strip()
    if not text:
        return None
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return Block(BlockKind.HEADING, text, level=1, meta={"style": "title"})
    if match := _HEADING.match(style):
        return Block(BlockKind.HEADING, text, level=max(1, int(match.group(1))))
    if style.lower().startswith("list"):
        return Block(BlockKind.LIST_ITEM, text)
    return Block(BlockKind.PARAGRAPH, text)


class DocxParser:
    """Headings with levels, list items, paragraphs and table rows."""

    extensions: tuple[str, ...] = ("docx",)

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Walk the body's paragraphs and tables in document order."""
        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        check_zip(data, options.zip_limits)
        try:
            document = docx.Document(io.BytesIO(data))
        except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
            raise ParseError(f"corrupt or unreadable .docx file ({exc})") from exc
        blocks: list[Block] = []
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                if (block := _paragraph_block(item)) is not None:
                    blocks.append(block)
            elif isinstance(item, Table):
                rows = [[cell.text for cell in row.cells] for row in item.rows]
                blocks.extend(table_blocks(rows))
        title = (document.core_properties.title or "").strip() or None
        if title is None:
            title = next((b.text for b in blocks if b.kind == BlockKind.HEADING), None)
        return ParsedDocument(blocks=blocks, title=title)
