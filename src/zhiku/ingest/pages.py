"""PDF pages of a stored original, rendered to PNG with pypdfium2 (for the document view).

PDFium is not thread-safe, so rendering holds one lock. The image is bounded in width, height
and pixel count whatever the page's shape, so a render holds the lock for at most a fraction of
a second (a page at the default width takes tens of milliseconds). The bytes are
content-addressed (the original's hash), so callers can cache the images for as long as they
like.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

from zhiku.core.errors import NotFound, ParseError
from zhiku.ingest.png import encode_png

MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 100, 2400, 900
MAX_HEIGHT = 2 * MAX_WIDTH  # a tall page is rendered narrower, never taller than this
_LOCK = threading.Lock()

if TYPE_CHECKING:
    import pypdfium2 as pdfium


def _open(data: bytes) -> pdfium.PdfDocument:
    import pypdfium2 as pdfium  # loaded by the first render, not by the server's start

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ParseError(f"corrupt, encrypted or unreadable PDF ({exc})") from exc


def page_sizes(data: bytes) -> list[tuple[float, float]]:
    """Width and height in points of every page, in order."""
    with _LOCK:
        doc = _open(data)
        try:
            sizes = [doc.get_page_size(i) for i in range(len(doc))]
        finally:
            doc.close()
    return [(float(w), float(h)) for w, h in sizes]


def page_scale(width_pt: float, height_pt: float, width: int, max_pixels: int) -> float:
    """Pixels per point for an image ``width`` pixels wide, lowered so that the image is at
    most ``MAX_HEIGHT`` pixels tall and ``max_pixels`` pixels in all."""
    width_pt, height_pt = max(1.0, width_pt), max(1.0, height_pt)
    return min(width / width_pt, MAX_HEIGHT / height_pt,
               math.sqrt(max_pixels / (width_pt * height_pt)))


def render_png(data: bytes, page: int, width: int = DEFAULT_WIDTH,
               max_pixels: int = 40_000_000) -> bytes:
    """Page ``page`` (1-based) as a PNG ``width`` pixels wide (clamped to 100-2400), or
    narrower when the page is so tall that the image would pass ``MAX_HEIGHT`` or
    ``max_pixels``."""
    width = max(MIN_WIDTH, min(MAX_WIDTH, width))
    with _LOCK:
        doc = _open(data)
        try:
            if not 1 <= page <= len(doc):
                raise NotFound(f"the document has {len(doc)} pages, not page {page}")
            pdf_page = doc[page - 1]
            try:
                scale = page_scale(pdf_page.get_width(), pdf_page.get_height(), width,
                                   max_pixels)
                bitmap = pdf_page.render(scale=scale, rev_byteorder=True)
                pixels = bitmap.to_numpy()
            finally:
                pdf_page.close()
        finally:
            doc.close()
    return encode_png(pixels)
