"""PowerPoint (``.pptx``) read straight from its Open XML parts: one page per slide.

Only text is needed, so the package is read with ``zipfile`` and lxml (a parser that resolves
no entities and fetches nothing) instead of a presentation library and its imaging stack.
Slides follow the presentation's slide list; within a slide, shapes follow the shape tree.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from typing import Any

from zhiku.core.errors import ParseError
from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.parsers.spreadsheet import table_blocks
from zhiku.ingest.parsers.zipguard import check_zip

_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_DOC_REL = "/officeDocument"
_NOTES_REL = "/notesSlide"
_TITLE_TYPES = frozenset({"title", "ctrTitle"})


class _Package:
    """The parts of an Open XML package, parsed safely and resolved through relationships."""

    def __init__(self, data: bytes) -> None:
        from lxml import etree

        self._zip = zipfile.ZipFile(io.BytesIO(data))
        self._parser = etree.XMLParser(resolve_entities=False, no_network=True,
                                       huge_tree=False)
        self._etree = etree

    def xml(self, name: str) -> Any:
        return self._etree.fromstring(self._zip.read(name), self._parser)

    def has(self, name: str) -> bool:
        return name in self._zip.NameToInfo

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, target part name) of ``part`` ("" for the package)."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
        if not self.has(rels_name):
            return {}
        found: dict[str, tuple[str, str]] = {}
        for rel in self.xml(rels_name).iter(f"{_REL}Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target))
            found[rel.get("Id", "")] = (rel.get("Type", ""), name)
        return found


def _paragraphs(body: Any) -> list[tuple[str, int]]:
    """Text and indent level of each non-empty paragraph of a text body."""
    out: list[tuple[str, int]] = []
    for para in body.iter(f"{_A}p"):
        pieces: list[str] = []
        for node in para:
            if node.tag in (f"{_A}r", f"{_A}fld"):
                pieces.append("".join(t.text or "" for t in node.iter(f"{_A}t")))
            elif node.tag == f"{_A}br":
                pieces.append("\n")
        text = "".join(pieces).strip()
        if text:
            props = para.find(f"{_A}pPr")
            level = int(props.get("lvl", "0")) if props is not None else 0
            out.append((text, level))
    return out


def _placeholder_type(shape: Any) -> str | None:
    ph = shape.find(f"{_P}nvSpPr/{_P}nvPr/{_P}ph")
    return None if ph is None else ph.get("type", "obj")


def _text_of(shape: Any) -> str:
    body = shape.find(f"{_P}txBody")
    return "\n".join(t for t, _ in _paragraphs(body)) if body is not None else ""


def _shape_blocks(shape: Any, page: int, section: str | None) -> list[Block]:
    """Blocks of one shape: a group's children, table rows, or text-frame paragraphs."""
    blocks: list[Block] = []
    if shape.tag == f"{_P}grpSp":
        for child in shape:
            blocks.extend(_shape_blocks(child, page, section))
    elif shape.tag == f"{_P}graphicFrame":
        for table in shape.iter(f"{_A}tbl"):
            rows = [["\n".join(t for t, _ in _paragraphs(cell)) for cell in row.iter(f"{_A}tc")]
                    for row in table.iter(f"{_A}tr")]
            for block in table_blocks(rows, section=section):
                block.page = page
                blocks.append(block)
    elif shape.tag == f"{_P}sp" and (body := shape.find(f"{_P}txBody")) is not None:
        for text, level in _paragraphs(body):
            kind = BlockKind.LIST_ITEM if level > 0 else BlockKind.PARAGRAPH
            blocks.append(Block(kind, text, page=page, section=section))
    return blocks


def _notes(pkg: _Package, slide_part: str) -> str:
    for kind, part in pkg.rels(slide_part).values():
        if kind.endswith(_NOTES_REL) and pkg.has(part):
            tree = pkg.xml(part).find(f"{_P}cSld/{_P}spTree")
            for shape in tree.iter(f"{_P}sp") if tree is not None else ():
                if _placeholder_type(shape) == "body":
                    return _text_of(shape).strip()
    return ""


def _slide_blocks(pkg: _Package, part: str, number: int) -> tuple[str, list[Block]]:
    tree = pkg.xml(part).find(f"{_P}cSld/{_P}spTree")
    shapes = list(tree) if tree is not None else []
    title_shape = next((s for s in shapes if s.tag == f"{_P}sp"
                        and _placeholder_type(s) in _TITLE_TYPES), None)
    title = _text_of(title_shape).strip() if title_shape is not None else ""
    blocks = [Block(BlockKind.HEADING, title, level=1, page=number)] if title else []
    for shape in shapes:
        if shape is not title_shape:
            blocks.extend(_shape_blocks(shape, number, title or None))
    if notes := _notes(pkg, part):
        blocks.append(Block(BlockKind.PARAGRAPH, notes, page=number, meta={"notes": "1"}))
    return title, blocks


def _read(pkg: _Package) -> ParsedDocument:
    main = next((part for kind, part in pkg.rels("").values() if kind.endswith(_DOC_REL)),
                "ppt/presentation.xml")
    rels = pkg.rels(main)
    slide_ids = pkg.xml(main).find(f"{_P}sldIdLst")
    parts = [rels[s.get(f"{_R}id", "")][1] for s in slide_ids] if slide_ids is not None else []
    blocks: list[Block] = []
    first_title: str | None = None
    for number, part in enumerate(parts, start=1):
        title, slide = _slide_blocks(pkg, part, number)
        first_title = first_title or title or None
        blocks.extend(slide)
    core_title = ""
    if pkg.has("docProps/core.xml"):
        found = pkg.xml("docProps/core.xml").find(f"{_DC}title")
        core_title = (found.text or "").strip() if found is not None else ""
    return ParsedDocument(blocks=blocks, title=core_title or first_title, pages=len(parts))


class PptxParser:
    """Slide titles as headings, body text, tables and speaker notes."""

    extensions: tuple[str, ...] = ("pptx",)

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse every slide in order; ``Block.page`` is the slide number."""
        from lxml import etree

        check_zip(data, options.zip_limits)
        try:
            return _read(_Package(data))
        except (zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
            raise ParseError(f"corrupt or unreadable .pptx file ({exc})") from exc
