"""Structure- and language-aware chunking, on documents parsed by the real parsers."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import TYPE_CHECKING

from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.chunking import ChunkDraft, ChunkingOptions, chunk_document
from zhiku.ingest.parsers import default_registry
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.text.sentences import split_sentences
from zhiku.text.tokens import count_tokens

if TYPE_CHECKING:
    from shared_data import Passage

REGISTRY = default_registry()
STOPS = "。！？；.!?;"


def parse(text: str, name: str) -> ParsedDocument:
    return REGISTRY.parse(text.encode(), filename=name, options=ParseOptions())


def searchable(drafts: list[ChunkDraft]) -> list[ChunkDraft]:
    return [d for d in drafts if d.searchable]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_chinese_paragraph_cut_on_sentence_boundaries(cmrc_passages: list[Passage]) -> None:
    passage = max(cmrc_passages, key=lambda p: len(p.text))
    doc = ParsedDocument([Block(BlockKind.PARAGRAPH, passage.text)])
    drafts = chunk_document(doc, ChunkingOptions(target=80, overlap=0))
    assert len(drafts) >= 3
    assert all(d.tokens <= 80 for d in drafts)
    assert all(d.tokens == count_tokens(d.text) for d in drafts)
    # no chunk starts with the punctuation that closes the previous sentence
    assert not any(d.text[0] in STOPS + "，、" for d in drafts)
    # sentences short enough to fit are never split, and nothing is lost or reordered
    for sentence in split_sentences(passage.text):
        if count_tokens(sentence) <= 80:
            assert any(sentence in d.text for d in drafts), sentence
    # Chinese sentences are joined without spaces: without overlap the chunks re-form the text
    assert squash("".join(d.text for d in drafts)) == squash(passage.text)


def test_english_abstract_cut_on_sentence_boundaries(scifact_passages: list[Passage]) -> None:
    passage = max(scifact_passages, key=lambda p: len(p.text))
    doc = ParsedDocument([Block(BlockKind.PARAGRAPH, passage.text)])
    drafts = chunk_document(doc, ChunkingOptions(target=60, overlap=0))
    assert len(drafts) >= 3
    assert all(d.tokens <= 60 for d in drafts)
    assert all(d.text == d.text.strip() for d in drafts)
    for sentence in split_sentences(passage.text):
        if count_tokens(sentence) <= 60:
            assert any(sentence in d.text for d in drafts), sentence
    # English sentences are joined with one space; no word is cut in two
    assert " ".join(d.text for d in drafts).split() == passage.text.split()


def overlap_chars(prev: str, nxt: str) -> int:
    """Length of the longest suffix of ``prev`` that starts ``nxt``."""
    return max((k for k in range(1, min(len(prev), len(nxt)) + 1) if prev[-k:] == nxt[:k]),
               default=0)


def test_overlap_repeats_trailing_sentences() -> None:
    sentences = [f"Rule number {i} says employees file form {i} before travel." for i in range(12)]
    doc = ParsedDocument([Block(BlockKind.PARAGRAPH, " ".join(sentences))])
    size = count_tokens(sentences[0])
    drafts = chunk_document(doc, ChunkingOptions(target=4 * size, overlap=size))
    assert len(drafts) >= 3
    for prev, nxt in pairwise(drafts):
        last = split_sentences(prev.text)[-1]
        assert split_sentences(nxt.text)[0] == last  # one sentence of overlap
    without = chunk_document(doc, ChunkingOptions(target=4 * size, overlap=0))
    assert sum(len(split_sentences(d.text)) for d in without) == len(sentences)


def test_chinese_overlap(cmrc_passages: list[Passage]) -> None:
    passage = max(cmrc_passages, key=lambda p: len(split_sentences(p.text)))
    doc = ParsedDocument([Block(BlockKind.PARAGRAPH, passage.text)])
    with_overlap = chunk_document(doc, ChunkingOptions(target=120, overlap=60))
    without = chunk_document(doc, ChunkingOptions(target=120, overlap=0))
    assert len(with_overlap) >= 4
    assert all(d.tokens <= 120 for d in with_overlap)
    assert squash("".join(d.text for d in without)) == squash(passage.text)
    shared = [overlap_chars(p.text, n.text) for p, n in pairwise(with_overlap)]
    # consecutive chunks share whole trailing sentences, never more than the overlap budget
    assert sum(1 for k in shared if k > 0) >= len(shared) - 1
    assert all(count_tokens(p.text[-k:]) <= 60 for p, k in zip(with_overlap, shared,
                                                                 strict=False) if k)
    assert all(overlap_chars(p.text, n.text) == 0 for p, n in pairwise(without))
    for prev, nxt, k in zip(with_overlap, with_overlap[1:], shared, strict=False):
        if k:
            assert prev.text[-k - 1] in STOPS + "”」\"", "the overlap starts at a sentence start"
            assert nxt.text[k - 1] in STOPS + "”」\""


def test_long_run_without_punctuation_is_cut_at_spaces() -> None:
    words = " ".join(f"token{i} alpha beta gamma" for i in range(80))
    doc = ParsedDocument([Block(BlockKind.PARAGRAPH, words)])
    drafts = chunk_document(doc, ChunkingOptions(target=50, overlap=0))
    assert len(drafts) >= 4
    assert all(d.tokens <= 55 for d in drafts)
    vocab = set(words.split())
    assert all(set(d.text.split()) <= vocab for d in drafts)  # no word was cut in two
    assert " ".join(d.text for d in drafts).split() == words.split()


def test_heading_paths_follow_the_markdown_outline() -> None:
    md = """# 员工手册

欢迎加入公司。

## 假期

### 年假

新员工每年有十五天年假。

### 病假

病假工资照发。

## Travel

Book economy class for flights under six hours.

# Appendix

Contact HR for anything else.
"""
    drafts = chunk_document(parse(md, "handbook.md"), ChunkingOptions(target=64, overlap=8))
    paths = {d.text: d.heading_path for d in drafts}
    assert paths == {
        "欢迎加入公司。": ["员工手册"],
        "新员工每年有十五天年假。": ["员工手册", "假期", "年假"],
        "病假工资照发。": ["员工手册", "假期", "病假"],
        "Book economy class for flights under six hours.": ["员工手册", "Travel"],
        "Contact HR for anything else.": ["Appendix"],
    }


def test_sections_are_never_merged_across_headings() -> None:
    md = "# A\n\nAlpha one.\n\n# B\n\nBeta two.\n"
    drafts = chunk_document(parse(md, "ab.md"), ChunkingOptions(target=500, overlap=50))
    assert [(d.text, d.heading_path) for d in drafts] == [
        ("Alpha one.", ["A"]),
        ("Beta two.", ["B"]),
    ]


def test_tables_are_never_cut_mid_row() -> None:
    rows = [
        f"| G{i} | {10 + i} | annual leave for grade {i} employees is paid in full |"
        for i in range(30)
    ]
    md = "# Leave\n\n| Grade | Days | Notes |\n|---|---|---|\n" + "\n".join(rows) + "\n"
    drafts = chunk_document(parse(md, "leave.md"), ChunkingOptions(target=60, overlap=20))
    assert len(drafts) >= 5
    expected = [
        f"Grade: G{i}; Days: {10 + i}; Notes: annual leave for grade {i} employees is paid in full"
        for i in range(30)
    ]
    lines = [line for d in drafts for line in d.text.split("\n")]
    # every chunk line is one whole row with its header, and every row appears exactly once
    assert lines == expected
    assert all(d.heading_path == ["Leave"] for d in drafts)


def test_csv_rows_keep_their_header_in_chunks() -> None:
    csv = "城市,每日补贴,备注\n北京,500,含住宿\n上海,480,含住宿\n广州,400,不含住宿\n"
    drafts = chunk_document(parse(csv, "allowance.csv"), ChunkingOptions(target=20, overlap=5))
    lines = [line for d in drafts for line in d.text.split("\n")]
    assert lines == [
        "城市: 北京; 每日补贴: 500; 备注: 含住宿",
        "城市: 上海; 每日补贴: 480; 备注: 含住宿",
        "城市: 广州; 每日补贴: 400; 备注: 不含住宿",
    ]


def test_faq_pairs_become_one_searchable_chunk_each() -> None:
    csv = (
        "问题,答案,分类\n"
        "如何重置密码？,在设置页点击重置密码。,账户\n"
        "发票多久开出？,三个工作日内开出。,财务\n"
        "How do I book travel?,Use the travel portal.,travel\n"
    )
    drafts = chunk_document(parse(csv, "faq.csv"), ChunkingOptions(target=256, overlap=32))
    questions = searchable(drafts)
    assert [d.text for d in questions] == [
        "如何重置密码？", "发票多久开出？", "How do I book travel?",
    ]
    for child in questions:
        assert child.parent is not None
        parent = drafts[child.parent]
        assert not parent.searchable
        assert parent.text.startswith(child.text)
        assert child.metadata["faq"] == "1"
    answers = [drafts[d.parent].text.split("\n", 1)[1] for d in questions if d.parent is not None]
    assert answers == ["在设置页点击重置密码。", "三个工作日内开出。", "Use the travel portal."]
    assert questions[0].metadata["分类"] == "账户"


def test_parent_child_keeps_the_section_as_context() -> None:
    body = " ".join(f"Clause {i} of the travel policy covers case {i}." for i in range(20))
    md = f"# Policy\n\n## Travel\n\n{body}\n\n## Leave\n\nLeave is fifteen days.\n"
    drafts = chunk_document(
        parse(md, "policy.md"), ChunkingOptions(target=40, overlap=0, parent_child=True)
    )
    parents = [d for d in drafts if not d.searchable]
    children = searchable(drafts)
    assert [p.heading_path for p in parents] == [["Policy", "Travel"], ["Policy", "Leave"]]
    assert len(children) > len(parents)
    for index, child in enumerate(drafts):
        if not child.searchable:
            continue
        assert child.parent is not None and child.parent < index  # parents come first
        parent = drafts[child.parent]
        assert child.text in parent.text
        assert child.heading_path == parent.heading_path
    travel = drafts.index(parents[0])
    travel_children = [c for c in children if c.parent == travel]
    assert " ".join(c.text for c in travel_children) == parents[0].text == body


def test_pages_and_list_items_are_kept() -> None:
    doc = ParsedDocument(
        [
            Block(BlockKind.PARAGRAPH, "First page text.", page=1),
            Block(BlockKind.HEADING, "Steps", level=1, page=2),
            Block(BlockKind.LIST_ITEM, "Open the portal", page=2),
            Block(BlockKind.LIST_ITEM, "Submit the form", page=2),
        ]
    )
    drafts = chunk_document(doc, ChunkingOptions(target=100, overlap=0))
    assert [(d.text, d.page, d.heading_path) for d in drafts] == [
        ("First page text.", 1, []),
        ("- Open the portal\n- Submit the form", 2, ["Steps"]),
    ]


def test_empty_blocks_produce_no_chunks() -> None:
    doc = ParsedDocument([Block(BlockKind.PARAGRAPH, "  "), Block(BlockKind.HEADING, "Only", 1)])
    assert chunk_document(doc, ChunkingOptions()) == []
