"""PDF via pypdfium2: the text layer per page, with OCR for scanned pages when available."""

from __future__ import annotations

import math
import re

import pypdfium2 as pdfium

from zhiku.core.errors import ParseError
from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.parsers import ocr
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.parsers.text import split_paragraphs

_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
_END_OF_SENTENCE = tuple(".!?:;。！？：；…\"'”’)")
_RENDER_SCALE = 2.0  # 144 dpi: enough for OCR of body text
_MIN_TEXT_CHARS = 3


def _is_cjk(ch: str) -> bool:
    return ord(ch) >= 0x2E80


def _join_lines(block: str) -> list[str]:
    """Join hard-wrapped lines; a short line ending a sentence closes its paragraph."""
    lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
    if not lines:
        return []
    width = max(len(ln) for ln in lines)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not current:
            current = line
        elif current.endswith("-") and line[:1].islower():
            current = current[:-1] + line
        elif _is_cjk(current[-1]) or _is_cjk(line[0]):
            current += line
        else:
            current += " " + line
        if line.endswith(_END_OF_SENTENCE) and len(line) < 0.8 * width:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def page_paragraphs(text: str) -> list[str]:
    """Paragraphs of one page's extracted text."""
    text = re.sub(r"[ \t\u00a0]+", " ", text.replace("\x02", "").replace("\ufffe", ""))
    return [p for chunk in split_paragraphs(text) for p in _join_lines(chunk)]


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PASSWORD_ERROR:
            raise ParseError("PDF is encrypted (password protected); remove the password") from exc
        raise ParseError(f"corrupt or unreadable PDF ({exc})") from exc


def render_scale(width: float, height: float, scale: float, max_pixels: int) -> float:
    """``scale`` (pixels per point), lowered so that a ``width`` x ``height`` point page
    renders to at most ``max_pixels`` pixels."""
    area = max(1.0, width) * max(1.0, height)
    return min(scale, math.sqrt(max_pixels / area))


def _ocr_page(page: pdfium.PdfPage, max_pixels: int) -> list[str]:
    scale = render_scale(page.get_width(), page.get_height(), _RENDER_SCALE, max_pixels)
    image = page.render(scale=scale).to_pil()
    return ocr.ocr_paragraphs(image)


class PdfParser:
    """One paragraph block per paragraph, tagged with its 1-based page number."""

    extensions: tuple[str, ...] = ("pdf",)

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Extract text page by page; OCR pages without a text layer when allowed."""
        doc = _open(data)
        try:
            blocks: list[Block] = []
            blank_pages: list[int] = []
            can_ocr = options.ocr and ocr.available()
            for index in range(len(doc)):
                page = doc[index]
                try:
                    textpage = page.get_textpage()
                    text = textpage.get_text_range()
                    textpage.close()
                    meta: dict[str, str] = {}
                    paragraphs = page_paragraphs(text)
                    if sum(len(p) for p in paragraphs) < _MIN_TEXT_CHARS:
                        blank_pages.append(index + 1)
                        paragraphs = _ocr_page(page, options.max_pixels) if can_ocr else []
                        meta = {"ocr": "1"}
                finally:
                    page.close()
                blocks.extend(
                    Block(BlockKind.PARAGRAPH, p, page=index + 1, meta=dict(meta))
                    for p in paragraphs
                )
            title = (doc.get_metadata_dict().get("Title") or "").strip()
            title = None if title.lower() in ("", "untitled") else title
            pages = len(doc)
        except pdfium.PdfiumError as exc:
            raise ParseError(f"corrupt or unreadable PDF ({exc})") from exc
        finally:
            doc.close()
        if not blocks and blank_pages and not can_ocr:
            hint = "pip install 'zhiku[ocr]'" if options.ocr else "enable OCR"
            raise ParseError(f"PDF has no text layer (scanned?); to OCR it: {hint}")
        return ParsedDocument(blocks=blocks, title=title, pages=pages)
