"""PowerPoint (``.pptx``) via python-pptx: one page per slide."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from zhiku.core.errors import ParseError
from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.parsers.spreadsheet import table_blocks
from zhiku.ingest.parsers.zipguard import check_zip


def _shape_blocks(shape: Any, page: int, section: str | None) -> list[Block]:
    """Blocks of one shape: table rows, text-frame paragraphs, or a group's children."""
    blocks: list[Block] = []
    if getattr(shape, "shapes", None) is not None:  # a group
        for child in shape.shapes:
            blocks.extend(_shape_blocks(child, page, section))
    elif getattr(shape, "has_table", False):
        rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
        for block in table_blocks(rows, section=section):
            block.page = page
            blocks.append(block)
    elif getattr(shape, "has_text_frame", False):
        for para in shape.text_frame.paragraphs:
            text = "".join(run.text for run in para.runs).strip() or para.text.strip()
            if text:
                kind = BlockKind.LIST_ITEM if para.level > 0 else BlockKind.PARAGRAPH
                blocks.append(Block(kind, text, page=page, section=section))
    return blocks


class PptxParser:
    """Slide titles as headings, body text, tables and speaker notes."""

    extensions: tuple[str, ...] = ("pptx",)

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse every slide in order; ``Block.page`` is the slide number."""
        from pptx import Presentation
        from pptx.exc import PackageNotFoundError

        check_zip(data, options.zip_limits)
        try:
            prs = Presentation(io.BytesIO(data))
        except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
            raise ParseError(f"corrupt or unreadable .pptx file ({exc})") from exc
        blocks: list[Block] = []
        title: str | None = None
        for number, slide in enumerate(prs.slides, start=1):
            title_shape = slide.shapes.title
            slide_title = title_shape.text_frame.text.strip() if title_shape is not None else ""
            if slide_title:
                blocks.append(Block(BlockKind.HEADING, slide_title, level=1, page=number))
                title = title or slide_title
            for shape in slide.shapes:
                if title_shape is not None and shape.shape_id == title_shape.shape_id:
                    continue
                blocks.extend(_shape_blocks(shape, number, slide_title or None))
            if slide.has_notes_slide:
                notes = slide.notes_slide.notes_text_frame
                text = notes.text.strip() if notes is not None else ""
                if text:
                    blocks.append(
                        Block(BlockKind.PARAGRAPH, text, page=number, meta={"notes": "1"})
                    )
        core_title = (prs.core_properties.title or "").strip()
        return ParsedDocument(blocks=blocks, title=core_title or title, pages=len(prs.slides))
