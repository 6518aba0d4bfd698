"""Raster bombs: images are refused from their header above the pixel limit, and PDF pages
are rendered (for OCR and for the page view) at a scale that keeps them under it."""

from __future__ import annotations

import io
import math
import time
import tracemalloc

import pytest

from bombs import MiB, pdf_page, png_header_bomb
from zhiku.core.errors import ParseError
from zhiku.ingest import pages as pdf_pages
from zhiku.ingest.parsers import default_registry, ocr
from zhiku.ingest.parsers.pdf import render_scale
from zhiku.ingest.parsers.registry import ParseOptions

needs_ocr = pytest.mark.skipif(not ocr.available(), reason="OCR extra not installed")


@needs_ocr
def test_an_image_over_the_pixel_limit_is_refused_before_decoding() -> None:
    data = png_header_bomb(8000, 6000)  # 48 Mpx: under Pillow's own limits
    assert len(data) < 20_000
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ParseError, match=r"8,000x6,000 pixels \(48 Mpx\), over the 40 Mpx"):
            default_registry().parse(data, filename="scan.png", options=ParseOptions())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB and time.perf_counter() - started < 5
    # the limit is a setting
    with pytest.raises(ParseError, match="over the 2 Mpx limit"):
        ocr.ocr_lines(png_header_bomb(2000, 1500), max_pixels=2_000_000)


@pytest.mark.parametrize(("width", "height"), [(7200, 7200), (14400, 14400), (50, 14400),
                                               (612, 792)])
def test_ocr_renders_pages_within_the_pixel_limit(width: float, height: float) -> None:
    scale = render_scale(width, height, 2.0, 40_000_000)
    assert width * height * scale * scale <= 40_000_000 * 1.0001
    if width * height * 4 <= 40_000_000:
        assert scale == 2.0  # ordinary pages keep the OCR resolution


@pytest.mark.parametrize(("width_pt", "height_pt"), [(50, 2000), (1, 50), (14400, 14400)])
def test_page_view_bounds_width_height_and_pixels(width_pt: float, height_pt: float) -> None:
    from PIL import Image

    png = pdf_pages.render_png(pdf_page(width_pt, height_pt), 1, pdf_pages.MAX_WIDTH,
                               max_pixels=4_000_000)
    width, height = Image.open(io.BytesIO(png)).size
    assert width <= pdf_pages.MAX_WIDTH and height <= pdf_pages.MAX_HEIGHT + 1
    assert width * height <= 4_000_000 * 1.01


def test_page_view_keeps_ordinary_pages_at_the_asked_width() -> None:
    from PIL import Image

    png = pdf_pages.render_png(pdf_page(612, 792, "An ordinary letter page."), 1, 900)
    width, height = Image.open(io.BytesIO(png)).size
    assert abs(width - 900) <= 1 and math.isclose(height, 900 * 792 / 612, abs_tol=2)
