"""Images (``.png``, ``.jpg``, ...): text recognised by OCR."""

from __future__ import annotations

from zhiku.core.errors import MissingDependency, ParseError
from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.parsers import ocr
from zhiku.ingest.parsers.registry import ParseOptions


class ImageParser:
    """OCRs an image into paragraph blocks; always registered so the error can explain."""

    extensions: tuple[str, ...] = ("png", "jpg", "jpeg", "bmp", "tiff", "tif", "webp")

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Run OCR on the image; ``MissingDependency`` when the OCR extra is not installed."""
        if not options.ocr:
            raise ParseError("image files need OCR, which is turned off")
        if not ocr.available():
            raise MissingDependency(ocr.INSTALL_HINT)
        paragraphs = ocr.ocr_paragraphs(data, options.max_pixels)
        blocks = [Block(BlockKind.PARAGRAPH, p, meta={"ocr": "1"}) for p in paragraphs]
        return ParsedDocument(blocks=blocks, pages=1, meta={"ocr": "1"})
