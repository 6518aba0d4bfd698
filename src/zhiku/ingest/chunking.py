"""Structure- and language-aware chunking.

Blocks are grouped into sections under their heading path; sections are packed into chunks of
about ``target`` tokens, splitting oversized blocks on sentence boundaries (。！？； and English
full stops) and never cutting a table row. Consecutive chunks share about ``overlap`` tokens.
FAQ pairs become one chunk each: the question is searchable, the answer comes back as context.
With ``parent_child`` each section is also kept whole as a parent of its small chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise

from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.text.sentences import split_sentences
from zhiku.text.tokens import count_tokens

_ATOMIC = (BlockKind.TABLE_ROW, BlockKind.CODE)


@dataclass(frozen=True, slots=True)
class ChunkingOptions:
    """How to cut: sizes are in tokens (see ``zhiku.text.tokens``)."""

    target: int = 256
    overlap: int = 32
    parent_child: bool = False
    parent_max: int = 1024


@dataclass(slots=True)
class ChunkDraft:
    """A chunk before storage. ``parent`` indexes the draft list; parents are not searchable."""

    text: str
    heading_path: list[str]
    page: int | None
    tokens: int
    searchable: bool = True
    parent: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Unit:
    text: str
    tokens: int
    page: int | None
    atomic: bool


@dataclass(slots=True)
class _Section:
    path: list[str]
    units: list[_Unit] = field(default_factory=list)


def _block_units(block: Block, target: int) -> Iterator[_Unit]:
    text = block.text.strip()
    if not text:
        return
    if block.kind == BlockKind.LIST_ITEM:
        text = "- " + text
    tokens = count_tokens(text)
    if tokens <= target or block.kind in _ATOMIC:
        yield _Unit(text, tokens, block.page, block.kind in _ATOMIC)
        return
    for sentence in split_sentences(text):
        yield from _hard_split(sentence, target, block.page)


def _hard_split(sentence: str, target: int, page: int | None) -> Iterator[_Unit]:
    tokens = count_tokens(sentence)
    if tokens <= target:
        yield _Unit(sentence, tokens, page, False)
        return
    # A "sentence" longer than a chunk (no punctuation): cut into equal pieces (no dangling
    # one-character tail), at a space where there is one (never mid-word in English).
    step = max(1, -(-len(sentence) // -(-tokens // target)))
    start = 0
    while start < len(sentence):
        end = min(len(sentence), start + step)
        space = sentence.rfind(" ", start + 1, end + 1) if end < len(sentence) else -1
        end = space if space > start else end
        piece = sentence[start:end].strip()
        if piece:
            yield _Unit(piece, count_tokens(piece), page, False)
        start = end


def _sections(doc: ParsedDocument, target: int) -> Iterator[_Section | tuple[Block, list[str]]]:
    """Yield sections (runs of blocks under one heading path) and FAQ blocks, in order."""
    stack: list[tuple[int, str]] = []
    current = _Section(path=[])
    last_group: str | None = None
    for block in doc.blocks:
        if block.kind == BlockKind.HEADING:
            if current.units:
                yield current
            level = max(block.level, 1)
            stack = [(lvl, txt) for lvl, txt in stack if lvl < level] + [
                (level, block.text.strip())
            ]
            current = _Section(path=[t for _, t in stack])
            continue
        group = block.section
        if group is not None and group != last_group:
            if current.units:
                yield current
            base = [t for _, t in stack]
            current = _Section(path=[*base, group] if group not in base else base)
            last_group = group
        if block.kind == BlockKind.FAQ:
            if current.units:
                yield current
                current = _Section(path=current.path)
            yield block, current.path
            continue
        current.units.extend(_block_units(block, target))
    if current.units:
        yield current


def _pack(units: list[_Unit], target: int, overlap: int) -> Iterator[list[_Unit]]:
    """Greedy packing into ~target tokens, repeating trailing non-atomic units as overlap."""
    batch: list[_Unit] = []
    size = 0
    for unit in units:
        if batch and size + unit.tokens > target:
            yield batch
            carry: list[_Unit] = []
            carried = 0
            for prev in reversed(batch):
                if prev.atomic or carried + prev.tokens > overlap:
                    break
                carry.insert(0, prev)
                carried += prev.tokens
            if carried + unit.tokens > target:
                carry, carried = [], 0
            batch, size = carry, carried
        batch.append(unit)
        size += unit.tokens
    if batch:
        yield batch


def _join(units: list[_Unit]) -> str:
    out = units[0].text
    for prev, unit in pairwise(units):
        sep = "\n" if prev.atomic or unit.atomic or unit.text.startswith("- ") else ""
        if not sep:
            # Chinese sentences join without a space; English ones with one.
            sep = "" if _cjk_boundary(prev.text[-1:], unit.text[:1]) else " "
        out += sep + unit.text
    return out


def _cjk_boundary(left: str, right: str) -> bool:
    return bool(left) and bool(right) and (ord(left) > 0x2E80 or ord(right) > 0x2E80)


def _faq_drafts(block: Block, path: list[str]) -> list[ChunkDraft]:
    question = block.text.strip()
    answer = (block.answer or "").strip()
    full = f"{question}\n{answer}" if answer else question
    meta = {"faq": "1", **block.meta}
    parent = ChunkDraft(full, path, block.page, count_tokens(full), searchable=False, metadata=meta)
    child = ChunkDraft(question, path, block.page, count_tokens(question), metadata=meta)
    return [parent, child]


def chunk_document(doc: ParsedDocument, options: ChunkingOptions) -> list[ChunkDraft]:
    """Cut a parsed document into chunk drafts (parents first, each before its children)."""
    drafts: list[ChunkDraft] = []
    for item in _sections(doc, options.target):
        if isinstance(item, tuple):
            parent_index = len(drafts)
            faq = _faq_drafts(*item)
            faq[1].parent = parent_index
            drafts.extend(faq)
            continue
        parent: int | None = None
        if options.parent_child:
            for group in _pack(item.units, options.parent_max, 0):
                parent = len(drafts)
                text = _join(group)
                drafts.append(
                    ChunkDraft(text, item.path, group[0].page, count_tokens(text), searchable=False)
                )
                drafts.extend(_children(group, item.path, options, parent))
            continue
        drafts.extend(_children(item.units, item.path, options, parent))
    return drafts


def _children(
    units: list[_Unit], path: list[str], options: ChunkingOptions, parent: int | None
) -> Iterator[ChunkDraft]:
    for group in _pack(units, options.target, options.overlap):
        text = _join(group)
        yield ChunkDraft(text, path, group[0].page, count_tokens(text), parent=parent)
