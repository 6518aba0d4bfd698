"""BEIR datasets: ``corpus.jsonl[.gz]``, ``queries.jsonl``, ``qrels/<split>.tsv``.

Questions are the queries judged in the split, with the qrels' graded corpus ids as expected
sources (they match documents ingested as ``<corpus id>.md``).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from zhiku.core.errors import InvalidInput
from zhiku.evals.types import EvalQuestion


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _first(folder: Path, *names: str) -> Path:
    for name in names:
        if (folder / name).exists():
            return folder / name
    raise InvalidInput(f"{folder} is not a BEIR folder: no {' or '.join(names)}")


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Objects of a JSONL file (gzip or not), streamed."""
    with _open(path) as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidInput(f"{path}:{n}: not valid JSON") from exc


def corpus(folder: Path) -> Iterator[dict[str, Any]]:
    """Corpus entries (``_id``, ``title``, ``text``), streamed."""
    return iter_jsonl(_first(folder, "corpus.jsonl.gz", "corpus.jsonl"))


def queries(folder: Path) -> dict[str, str]:
    """Query id → text."""
    path = _first(folder, "queries.jsonl", "queries.jsonl.gz")
    return {str(q["_id"]): str(q["text"]) for q in iter_jsonl(path)}


def qrels(folder: Path, split: str = "test") -> dict[str, dict[str, int]]:
    """Query id → {corpus id: relevance} of one split, in file order."""
    path = _first(folder / "qrels", f"{split}.tsv")
    out: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            if n == 1 and not parts[-1].lstrip("-").isdigit():
                continue  # header
            if len(parts) != 3:
                if line.strip():
                    raise InvalidInput(f"{path}:{n}: expected query-id, corpus-id, score")
                continue
            out.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return out


def load(folder: Path, split: str = "test") -> list[EvalQuestion]:
    """The judged queries of ``split`` as eval questions."""
    texts = queries(folder)
    out = []
    for qid, rel in qrels(folder, split).items():
        if qid not in texts:
            raise InvalidInput(f"query '{qid}' is in the qrels but not in queries.jsonl")
        out.append(EvalQuestion(question=texts[qid], ext_id=qid, expected_sources=rel,
                                tags=[f"beir:{split}"]))
    return out


def markdown(entry: dict[str, Any]) -> bytes:
    """One corpus entry as a markdown document: the title as a heading, then the text."""
    title = str(entry.get("title") or "").strip().replace("\n", " ")
    text = str(entry.get("text") or "").strip()
    return (f"# {title}\n\n{text}\n" if title else f"{text}\n").encode()
