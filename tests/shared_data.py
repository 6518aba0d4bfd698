"""Paths to the real data sets in ../shared/data and small loaders, for fixtures and tests.

A module of its own (not conftest.py): test files import from it by a unique name.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CMRC_DEV = SHARED_DATA / "cmrc2018" / "cmrc2018_dev.json"
SCIFACT_CORPUS = SHARED_DATA / "scifact" / "corpus.jsonl.gz"
SCIFACT_QUERIES = SHARED_DATA / "scifact" / "queries.jsonl"
SCIFACT_QRELS = SHARED_DATA / "scifact" / "qrels" / "test.tsv"


@dataclass(frozen=True, slots=True)
class Passage:
    """A real passage with a question it answers (CMRC) or a title (SciFact)."""

    id: str
    text: str
    question: str = ""
    answer: str = ""
    title: str = ""


def need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"shared data set missing: {path}")


def scifact_abstracts(limit: int) -> list[Passage]:
    """The first ``limit`` SciFact abstracts (title + text)."""
    need(SCIFACT_CORPUS)
    out: list[Passage] = []
    with gzip.open(SCIFACT_CORPUS, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if not row["text"].strip():
                continue
            out.append(Passage(row["_id"], row["text"], title=row["title"]))
            if len(out) >= limit:
                break
    return out
