"""Hostile files, generated small: zip bombs in real Office files, raster bombs, XML entity
expansion, deep JSON. Each is a few hundred kilobytes at most on disk."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

MiB = 1024 * 1024
_PIECE = 4 * MiB


@dataclass
class Entry:
    """One zip entry as stored: raw deflate data (or plain data, ``method`` 0)."""

    name: str
    raw: bytes
    crc: int
    size: int  # the uncompressed size written in the headers
    method: int = 8


def _deflate(data: bytes, *, last: bool) -> bytes:
    """Raw deflate blocks of ``data`` that refer to nothing before them, so that they can be
    repeated or followed by other such blocks; ``last``: end the stream."""
    co = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return co.compress(data) + co.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)


def plain_entry(name: str, data: bytes) -> Entry:
    return Entry(name, _deflate(data, last=True), zlib.crc32(data), len(data))


def bomb_entry(name: str, head: bytes, filler: bytes, size: int, tail: bytes,
               declared: int | None = None) -> Entry:
    """An entry that inflates to ``head + filler * n + tail`` (about ``size`` bytes), from a
    few hundred kilobytes; ``declared``: the uncompressed size the headers claim instead."""
    piece = filler * (_PIECE // len(filler))
    repeats = max(1, (size - len(head) - len(tail)) // _PIECE)
    raw = _deflate(head, last=False) + _deflate(piece, last=False) * repeats + _deflate(
        tail, last=True)
    crc = zlib.crc32(head)
    for _ in range(repeats):
        crc = zlib.crc32(piece, crc)
    crc = zlib.crc32(tail, crc)
    real = len(head) + repeats * len(piece) + len(tail)
    return Entry(name, raw, crc, real if declared is None else declared)


def write_zip(entries: list[Entry]) -> bytes:
    """A zip archive of ``entries`` exactly as given (headers included)."""
    out = io.BytesIO()
    central = []
    for e in entries:
        offset = out.tell()
        name = e.name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, e.method, 0, 0x21,
                              e.crc, len(e.raw), e.size, len(name), 0))
        out.write(name + e.raw)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, e.method, 0,
                                   0x21, e.crc, len(e.raw), e.size, len(name), 0, 0, 0, 0,
                                   0, offset) + name)
    start = out.tell()
    for record in central:
        out.write(record)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                          out.tell() - start, start, 0))
    return out.getvalue()


def replace_member(office: bytes, member: str, replacement: Entry | None,
                   extra: tuple[Entry, ...] = ()) -> bytes:
    """A copy of a real Office file with ``member`` replaced (``None``: kept) and ``extra``
    entries appended."""
    entries = []
    with zipfile.ZipFile(io.BytesIO(office)) as z:
        for name in z.namelist():
            if name == member and replacement is not None:
                entries.append(replacement)
            else:
                entries.append(plain_entry(name, z.read(name)))
    return write_zip(entries + list(extra))


def docx_bytes(text: str = "A perfectly normal memo.") -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["question", "answer"])
    ws.append(["Where is the office?", "Beijing"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pptx_bytes() -> bytes:
    from pptx import Presentation

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = "Quarterly review"
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


_W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_DOC_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ' + _W + \
    b"><w:body>"
_DOC_TAIL = b"<w:p><w:r><w:t>Bomb.</w:t></w:r></w:p></w:body></w:document>"


def docx_bomb(size: int = 400 * MiB, declared: int | None = None) -> bytes:
    """A ``.docx`` whose ``word/document.xml`` inflates to ``size`` bytes (of whitespace)."""
    entry = bomb_entry("word/document.xml", _DOC_HEAD, b" ", size, _DOC_TAIL, declared)
    return replace_member(docx_bytes(), "word/document.xml", entry)


def xlsx_bomb(size: int = 400 * MiB) -> bytes:
    """A ``.xlsx`` whose sheet inflates to ``size`` bytes (one huge inline string)."""
    head = (b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.'
            b'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" '
            b't="inlineStr"><is><t>')
    tail = b"</t></is></c></row></sheetData></worksheet>"
    entry = bomb_entry("xl/worksheets/sheet1.xml", head, b"a", size, tail)
    return replace_member(xlsx_bytes(), "xl/worksheets/sheet1.xml", entry)


def pptx_bomb(size: int = 400 * MiB) -> bytes:
    """A ``.pptx`` with an extra part that inflates to ``size`` bytes (python-pptx reads every
    part into memory)."""
    entry = bomb_entry("ppt/media/image9.bin", b"", b"\0", size, b"")
    return replace_member(pptx_bytes(), "", None, (entry,))


def docx_entity_bomb() -> bytes:
    """A ``.docx`` whose body is a billion-laughs entity expansion."""
    lol = [b'<!ENTITY lol0 "lol">']
    lol += [b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)]
    xml = (b'<?xml version="1.0"?>\n<!DOCTYPE w:document [' + b"".join(lol) + b"]>\n"
           b"<w:document " + _W + b"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>"
           b"</w:body></w:document>")
    return replace_member(docx_bytes(), "word/document.xml", plain_entry("word/document.xml",
                                                                          xml))


def png_header_bomb(width: int, height: int) -> bytes:
    """A black-and-white PNG of ``width`` x ``height`` pixels, all white, compressed tiny."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">L", len(body)) + kind + body
                + struct.pack(">L", zlib.crc32(kind + body)))

    row = b"\0" + b"\xff" * ((width + 7) // 8)
    co = zlib.compressobj(9)
    pixels = co.compress(row * height) + co.flush()
    ihdr = struct.pack(">2L5B", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def pdf_page(width_pt: float, height_pt: float, text: str | None = None) -> bytes:
    """A one-page PDF of the given size in points, blank or with a little text."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format=(width_pt, height_pt))
    pdf.set_margins(1, 1)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    if text:
        pdf.set_font("helvetica", size=8)
        pdf.set_xy(1, 10)
        pdf.multi_cell(max(10.0, width_pt - 2), 10, text)
    return bytes(pdf.output())


def deep_json(depth: int = 200_000) -> bytes:
    return b"[" * depth + b"]" * depth
