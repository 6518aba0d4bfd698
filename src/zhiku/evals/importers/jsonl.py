"""JSONL eval sets: one object per line.

Keys: ``question`` (or ``query``/``text``), ``id``, ``expected_sources`` (list or {key: grade}),
``expected_chunks``, ``reference_answers`` (or ``answer``/``answers``), ``answerable``, ``tags``,
``metadata``. This is also what ``zhiku export evalset`` writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zhiku.core.errors import InvalidInput
from zhiku.evals.importers.common import boolean, graded, graded_chunks, text_list
from zhiku.evals.types import EvalQuestion


def parse(item: dict[str, Any], where: str) -> EvalQuestion:
    """One question from one JSON object."""
    text = item.get("question") or item.get("query") or item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{where}: no 'question'")
    answers = item.get("reference_answers", item.get("answers", item.get("answer")))
    meta = item.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InvalidInput(f"{where}: 'metadata' must be an object")
    return EvalQuestion(
        question=text.strip(),
        ext_id=str(item.get("id", "")),
        expected_sources=graded(item.get("expected_sources"), where),
        expected_chunks=graded_chunks(item.get("expected_chunks"), where),
        reference_answers=text_list(answers),
        answerable=boolean(item.get("answerable"), True),
        tags=text_list(item.get("tags")),
        metadata=meta,
    )


def load(path: Path) -> list[EvalQuestion]:
    """Every question of a JSONL file."""
    out = []
    with path.open(encoding="utf-8-sig") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{path}:{n}: not valid JSON: {exc.msg}") from exc
            if not isinstance(item, dict):
                raise InvalidInput(f"{path}:{n}: expected a JSON object")
            out.append(parse(item, f"{path}:{n}"))
    return out
