"""Fixtures of the knowledge-graph tests: real HotpotQA paragraphs, a KB with graph=True."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

HOTPOT = Path(__file__).resolve().parents[3] / "shared/data/hotpotqa500/dev_subsampled.jsonl"


@pytest.fixture(scope="session")
def hotpot_rows() -> list[dict]:
    """The first 12 HotpotQA-500 questions with their contexts."""
    if not HOTPOT.exists():
        pytest.skip(f"shared data set missing: {HOTPOT}")
    with HOTPOT.open(encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(12), fh, strict=False)]


def paragraph_items(rows: list[dict]) -> tuple[list[SourceItem], dict[tuple[str, str], str]]:
    """One markdown document per distinct paragraph; (title, text) → source."""
    sources: dict[tuple[str, str], str] = {}
    for row in rows:
        for c in row["contexts"]:
            sources.setdefault((c["title"], c["paragraph_text"]), f"p{len(sources):04d}.md")
    items = [SourceItem(src, data=f"# {t}\n\n{x}\n".encode()) for (t, x), src in sources.items()]
    return items, sources


@pytest.fixture
def hotpot_kb(zk: Zhiku, hotpot_rows: list[dict]) -> dict[tuple[str, str], str]:
    """A knowledge base 'hp' (hashing embedder, graph on) holding the rows' paragraphs."""
    zk.create_kb("hp", embedder="hashing", graph=True, chunk_tokens=2048, chunk_overlap=0)
    items, sources = paragraph_items(hotpot_rows)
    report = zk.ingest_items("hp", items)
    assert not report.failed
    return sources
