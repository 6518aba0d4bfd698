"""A lazy wrapper around RapidOCR (the ``zhiku[ocr]`` extra); its models ship in the wheel."""

from __future__ import annotations

import importlib.util
import io
import threading
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

from zhiku.core.errors import MissingDependency, ParseError

INSTALL_HINT = "OCR needs: pip install 'zhiku[ocr]'"
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One recognised line with its vertical extent in pixels."""

    text: str
    top: float
    bottom: float


def available() -> bool:
    """True when RapidOCR (and Pillow) can be imported; loads nothing."""
    return all(importlib.util.find_spec(m) is not None for m in ("rapidocr_onnxruntime", "PIL"))


@cache
def _engine() -> Any:
    if not available():
        raise MissingDependency(INSTALL_HINT)
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def _image(source: Any, max_pixels: int | None) -> Any:
    """Turn bytes into a PIL image, refusing one over ``max_pixels`` from its header (before
    any pixel is decoded); pass arrays and images through."""
    if not isinstance(source, bytes | bytearray):
        return source
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # Pillow warns from 89 Mpx; the check below is stricter
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(source))
        width, height = image.size
        if max_pixels is not None and width * height > max_pixels:
            raise ParseError(
                f"image is {width:,}x{height:,} pixels ({width * height / 1e6:,.0f} Mpx), over "
                f"the {max_pixels / 1e6:,.0f} Mpx limit"
            )
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ParseError(f"corrupt or unreadable image: {exc}") from exc
    return image.convert("RGB")


def _join(left: str, right: str) -> str:
    """Join two fragments, without a space between CJK characters."""
    if left and right and ord(left[-1]) > 0x2E80 and ord(right[0]) > 0x2E80:
        return left + right
    return f"{left} {right}" if left else right


def ocr_lines(source: Any, max_pixels: int | None = None) -> list[OcrLine]:
    """Recognise text in an image (bytes, numpy array or PIL image), lines in reading order;
    encoded images over ``max_pixels`` are refused."""
    image = _image(source, max_pixels)
    engine = _engine()
    with _lock:
        result, _ = engine(image)
    boxes = []
    for box, text, _score in result or []:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        boxes.append((min(ys), max(ys), min(xs), str(text).strip()))
    boxes.sort(key=lambda b: (b[0] + b[1]) / 2)
    rows: list[list[tuple[float, float, float, str]]] = []
    for box in boxes:
        last = rows[-1] if rows else None
        if last is not None:
            top, bottom = min(b[0] for b in last), max(b[1] for b in last)
            centre = (box[0] + box[1]) / 2
            if top <= centre <= bottom:
                last.append(box)
                continue
        rows.append([box])
    lines: list[OcrLine] = []
    for row in rows:
        text = ""
        for box in sorted(row, key=lambda b: b[2]):
            text = _join(text, box[3])
        if text:
            lines.append(OcrLine(text, min(b[0] for b in row), max(b[1] for b in row)))
    return lines


def ocr_image(source: Any, max_pixels: int | None = None) -> list[str]:
    """The recognised lines of an image as plain strings, in reading order."""
    return [line.text for line in ocr_lines(source, max_pixels)]


def ocr_paragraphs(source: Any, max_pixels: int | None = None) -> list[str]:
    """Recognised lines grouped into paragraphs by vertical gaps larger than a line height."""
    paragraphs: list[list[OcrLine]] = []
    for line in ocr_lines(source, max_pixels):
        if paragraphs:
            prev = paragraphs[-1][-1]
            if line.top - prev.bottom <= (prev.bottom - prev.top):
                paragraphs[-1].append(line)
                continue
        paragraphs.append([line])
    out: list[str] = []
    for para in paragraphs:
        text = ""
        for line in para:
            text = _join(text, line.text)
        out.append(text)
    return out
