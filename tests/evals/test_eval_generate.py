"""Synthetic questions: de-duplication and the "retrieved by some method" filter."""

from __future__ import annotations

import gzip
import json

import pytest
from evalsdata import SCIFACT, need

from zhiku.evals.generate import (
    LLMQuestionGenerator,
    SourceChunk,
    deduplicate,
    generate,
    sample_chunks,
)
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku


class TitleGenerator:
    """Deterministic: the passage's title (first line) as a question, its duplicate in other
    words, and a question about something else entirely."""

    def generate(self, passage: str, n: int) -> list[str]:
        title = passage.splitlines()[0].strip("# ").rstrip(".")
        return [f"{title}?", f"{title.upper()} ?", "What colour is the ocean on Mars at noon?"]


@pytest.fixture
def scifact_kb(zk: Zhiku) -> Zhiku:
    need(SCIFACT)
    items = []
    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            items.append(SourceItem(f"{d['_id']}.md",
                                    data=f"# {d['title']}\n\n{d['text']}\n".encode()))
            if len(items) == 40:
                break
    zk.create_kb("sf", embedder="hashing", chunk_tokens=8192, chunk_overlap=0)
    zk.ingest_items("sf", items)
    return zk


def test_deduplicate() -> None:
    c = SourceChunk(1, "a.md", "text")
    items = [("What is X?", c), ("what is x", c), ("What is X, exactly?", c),
             ("Why does Y happen?", c), ("", c)]
    assert [q for q, _ in deduplicate(items)] == ["What is X?", "What is X, exactly?",
                                                  "Why does Y happen?"]
    assert [q for q, _ in deduplicate(items, threshold=0.6)] == ["What is X?",
                                                                 "Why does Y happen?"]


def test_llm_generator_parses_lines() -> None:
    prompts: list[str] = []

    def complete(prompt: str) -> str:
        prompts.append(prompt)
        return "1. What is A?\n- Why B?\n\nQ3: How C?\nok\n"

    gen = LLMQuestionGenerator(complete)
    assert gen.generate("Passage text.", 3) == ["What is A?", "Why B?", "How C?"]
    assert "Passage text." in prompts[0] and "3 question" in prompts[0]


def test_generate_filters_unretrievable_questions(scifact_kb: Zhiku) -> None:
    zk = scifact_kb
    chunks = sample_chunks(zk.evals, zk.kb("sf").id, 10, seed=3)
    assert len(chunks) == 10 and chunks == sample_chunks(zk.evals, zk.kb("sf").id, 10, seed=3)
    questions = generate(zk, zk.evals, "sf", TitleGenerator(), chunks=10, seed=3, k=5)
    # One title question per chunk survives: its upper-case twin is a duplicate, and the Mars
    # question is asked once (duplicates across chunks too) and finds none of its chunks.
    texts = [q.question for q in questions]
    assert len(texts) == len(set(texts))
    assert all("Mars" not in t for t in texts)
    assert 8 <= len(questions) <= 10
    for q in questions:
        (cid,) = q.expected_chunks
        assert cid in {c.chunk_id for c in chunks}
        assert cid in {h.chunk_id for h in zk.search("sf", q.question, top_k=5, mode="keyword")} \
            or cid in {h.chunk_id for h in zk.search("sf", q.question, top_k=5, mode="vector")} \
            or cid in {h.chunk_id for h in zk.search("sf", q.question, top_k=5)}
        assert q.tags == ["synthetic"] and next(iter(q.expected_sources)).endswith(".md")
