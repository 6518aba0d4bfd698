"""``zhiku eval beir PATH``: a BEIR dataset end to end — ingest, search, score.

Each corpus entry becomes one markdown document ``<_id>.md`` ("# title" then the text) in a
scratch knowledge base whose chunks are large enough to hold a whole entry, exactly as the
core's SciFact benchmark ingests it, so the nDCG@10 numbers agree.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from zhiku.core.errors import InvalidInput
from zhiku.evals import sets
from zhiku.evals.importers import beir as beir_format
from zhiku.evals.runs import Progress, RunOptions, RunRecord, run_eval
from zhiku.evals.store import EvalStore
from zhiku.evals.targets import KbSearch, KbTarget
from zhiku.ingest.events import IngestListener, IngestReport
from zhiku.ingest.pipeline import SourceItem
from zhiku.retrieval.search import Mode
from zhiku.store.records import KnowledgeBase


class KbLab(KbSearch, Protocol):
    """Scratch knowledge bases: create, fill, search, delete (``Zhiku`` offers all of it)."""

    def create_kb(self, name: str, *, embedder: str | None = ..., **settings: Any
                  ) -> KnowledgeBase:
        """A new knowledge base."""
        ...

    def ingest_items(self, kb_name: str, items: Iterable[SourceItem],
                     listener: IngestListener | None = ...) -> IngestReport:
        """Ingest in-memory items."""
        ...

    def delete_kb(self, name: str) -> None:
        """Delete a knowledge base and everything in it."""
        ...

CHUNK_TOKENS = 8192  # one corpus entry = one chunk


@dataclass(slots=True)
class BeirResult:
    """What one BEIR evaluation did and scored."""

    dataset: str
    split: str
    kb: str
    set_name: str
    documents: int
    failed: int
    ingest_seconds: float
    runs: dict[str, RunRecord] = field(default_factory=dict)
    kept: bool = False


def run_beir(
    lab: KbLab,
    store: EvalStore,
    folder: Path,
    *,
    split: str = "test",
    embedder: str | None = None,
    modes: Sequence[Mode] = ("hybrid",),
    top_k: int = 10,
    keep: bool = False,
    listener: IngestListener | None = None,
    progress: Progress | None = None,
) -> BeirResult:
    """Ingest ``folder``'s corpus into a scratch knowledge base of ``lab`` and evaluate every
    mode; the set and the runs are stored in ``store``."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a BEIR folder")
    dataset = folder.resolve().name
    questions = beir_format.load(folder, split)
    set_name = f"beir-{dataset}-{split}"
    sets.create_set(store, set_name, questions, origin=str(folder.resolve()), replace=True,
                    description=f"BEIR {dataset} ({split})")
    kb = f"beir-{dataset}-{uuid.uuid4().hex[:8]}"
    lab.create_kb(kb, embedder=embedder, chunk_tokens=CHUNK_TOKENS, chunk_overlap=0)
    try:
        started = time.perf_counter()
        entries = (SourceItem(f"{e['_id']}.md", data=beir_format.markdown(e))
                   for e in beir_format.corpus(folder))
        report = lab.ingest_items(kb, entries, listener)
        result = BeirResult(dataset, split, kb, set_name, documents=len(report.files),
                            failed=len(report.failed),
                            ingest_seconds=round(time.perf_counter() - started, 2), kept=keep)
        options = RunOptions(top_k=top_k, with_answer=False)
        for mode in modes:
            target = KbTarget(lab, kb, mode)
            result.runs[mode] = run_eval(store, target, set_name, options, progress)
    finally:
        if not keep:
            lab.delete_kb(kb)
    return result
