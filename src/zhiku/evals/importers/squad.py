"""SQuAD v1/v2 JSON (and CMRC 2018, which uses the same shape).

Each question's expected source is its paragraph (``<paragraph id>``, which matches a paragraph
ingested as ``<paragraph id>.txt``); reference answers are the annotated spans; SQuAD v2
``is_impossible`` questions are unanswerable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zhiku.core.errors import InvalidInput
from zhiku.evals.types import EvalQuestion


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise InvalidInput(f"{path}: not SQuAD format (no top-level 'data' list)")
    return data["data"]


def paragraphs(path: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(paragraph id, context, paragraph object) for every paragraph."""
    for a, article in enumerate(_read(path)):
        for p, para in enumerate(article.get("paragraphs", [])):
            pid = str(para.get("id") or f"{article.get('title') or a}-{p}")
            yield pid, str(para.get("context", "")), para


def load(path: Path) -> list[EvalQuestion]:
    """Every question with its reference answers and paragraph."""
    out = []
    for pid, _, para in paragraphs(path):
        for qa in para.get("qas", []):
            impossible = bool(qa.get("is_impossible", False))
            answers = list(dict.fromkeys(
                str(a["text"]).strip() for a in qa.get("answers", []) if str(a.get("text", ""))
            ))
            out.append(EvalQuestion(
                question=str(qa["question"]).strip(),
                ext_id=str(qa.get("id", "")),
                expected_sources={} if impossible else {pid: 1},
                reference_answers=answers,
                answerable=not impossible,
                tags=["squad"],
            ))
    return out
