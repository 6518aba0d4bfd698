"""Hard-wrapped Markdown paragraphs come out as one line of prose."""

from __future__ import annotations

from zhiku.ingest.blocks import BlockKind
from zhiku.ingest.parsers.markdown import MarkdownParser
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.parsers.text import unwrap


def test_unwrap_joins_english_with_a_space_and_chinese_without() -> None:
    assert unwrap("keeps its data\n  under HOME,\nwhich") == "keeps its data under HOME, which"
    assert unwrap("中文全文检索用\n分词，\n再建索引。") == "中文全文检索用分词，再建索引。"
    assert unwrap("SQLite 的\nFTS5") == "SQLite 的FTS5"


def test_markdown_paragraph_soft_breaks_are_unwrapped() -> None:
    data = (
        "# Title\n\nZhiku keeps all its data\nin one SQLite file.\n\n"
        "- a list item\n  that wraps\n"
    )
    doc = MarkdownParser().parse(data.encode(), filename="x.md", options=ParseOptions())
    texts = {b.kind: b.text for b in doc.blocks}
    assert texts[BlockKind.PARAGRAPH] == "Zhiku keeps all its data in one SQLite file."
    assert texts[BlockKind.LIST_ITEM] == "a list item that wraps"
