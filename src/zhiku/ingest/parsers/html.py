"""HTML (``.html``, ``.htm``) via selectolax's Lexbor parser."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from zhiku.core.errors import ParseError
from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.parsers.spreadsheet import row_text
from zhiku.text.encoding import decode_text

_DROP = "script, style, nav, footer, header, aside, noscript, template, svg, form"
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_TEXT_TAGS = {"p", "li", "pre", "blockquote", "dt", "dd", "figcaption", "caption"}
_INLINE = {
    "-text",
    "a",
    "abbr",
    "b",
    "br",
    "cite",
    "code",
    "em",
    "font",
    "i",
    "img",
    "kbd",
    "label",
    "mark",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
    "u",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def _decode(data: bytes) -> tuple[str, str]:
    """``decode_text`` first; fall back to a declared ``<meta charset>``."""
    try:
        return decode_text(data)
    except ParseError:
        match = _META_CHARSET.search(data[:4096])
        if match is None:
            raise
        name = match.group(1).decode("ascii")
        try:
            return data.decode(name), name
        except (LookupError, UnicodeDecodeError) as exc:
            raise ParseError(f"could not decode HTML as its declared charset {name}") from exc


def _text(node: LexborNode, sep: str = "") -> str:
    return _SPACES.sub(" ", node.text(separator=sep)).strip()


def _has_block(node: LexborNode) -> bool:
    """True when a descendant (not ``node`` itself) is a block-level element."""
    nodes = node.traverse(include_text=False)
    next(nodes, None)  # the node itself
    return any((n.tag or "") not in _INLINE for n in nodes)


def _table(node: LexborNode) -> list[Block]:
    """One TABLE_ROW per body row, labelled by ``th`` cells or the first row."""
    rows = [[_text(c, " ") for c in tr.css("th, td")] for tr in node.css("tr")]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    if not body:
        return [Block(BlockKind.TABLE_ROW, "; ".join(c for c in header if c))]
    return [Block(BlockKind.TABLE_ROW, t) for r in body if (t := row_text(header, r))]


def _element(child: LexborNode, tag: str, blocks: list[Block]) -> None:
    """Emit the blocks of one block-level element."""
    if tag in _HEADINGS:
        if text := _text(child, " "):
            blocks.append(Block(BlockKind.HEADING, text, level=int(tag[1])))
    elif tag == "table":
        blocks.extend(_table(child))
    elif tag == "pre":
        if code := (child.text(separator="") or "").strip("\n"):
            blocks.append(Block(BlockKind.CODE, code))
    elif tag in _TEXT_TAGS and not _has_block(child):
        if text := _text(child):
            kind = BlockKind.LIST_ITEM if tag == "li" else BlockKind.PARAGRAPH
            blocks.append(Block(kind, text))
    else:
        _walk(child, blocks)


def _walk(node: LexborNode, blocks: list[Block]) -> None:
    """Emit blocks for ``node``'s children in document order; inline runs become paragraphs."""
    run: list[str] = []

    def flush() -> None:
        if text := _SPACES.sub(" ", "".join(run)).strip():
            blocks.append(Block(BlockKind.PARAGRAPH, text))
        run.clear()

    child = node.child
    while child is not None:
        tag = child.tag or ""
        if tag in _INLINE and not _has_block(child):
            run.append(child.text(separator="") or "")
        elif not tag.startswith("_") and tag != "-comment":
            flush()
            _element(child, tag, blocks)
        child = child.next
    flush()


class HtmlParser:
    """Readable content of a web page, minus navigation and scripts."""

    extensions: tuple[str, ...] = ("html", "htm")

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse HTML into headings, paragraphs, list items, code and table rows."""
        text, encoding = _decode(data)
        tree = LexborHTMLParser(text)
        title_node = tree.css_first("title")
        title = _text(title_node) if title_node is not None else ""
        for node in tree.css(_DROP):
            node.decompose()
        blocks: list[Block] = []
        root = tree.body or tree.root
        if root is not None:
            _walk(root, blocks)
        if not title:
            h1 = (b.text for b in blocks if b.kind == BlockKind.HEADING and b.level == 1)
            title = next(h1, "")
        return ParsedDocument(blocks=blocks, title=title or None, meta={"encoding": encoding})
