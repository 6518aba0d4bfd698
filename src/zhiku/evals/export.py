"""``zhiku export``: curated data as JSONL — SFT chat, DPO preference pairs, eval sets.

SFT and DPO records use OpenAI's fine-tuning formats: ``{"messages": [...]}`` and
``{"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}``.
The user turn carries the retrieved context, so the model learns to answer from it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from zhiku.evals.feedback import LoggedAnswer
from zhiku.evals.normalize import question_key
from zhiku.evals.redact import redact
from zhiku.evals.scoring import strip_markers
from zhiku.evals.types import EvalQuestion

SYSTEM_PROMPT = (
    "Answer the question using only the numbered context passages. Cite passages as [n]. "
    "If the context does not contain the answer, say that the knowledge base does not say."
)
CONTEXT_PASSAGES = 5


def _identity(text: str) -> str:
    return text


def prompt_messages(a: LoggedAnswer, clean: Callable[[str], str]) -> list[dict[str, str]]:
    """System and user turns: instructions, then the retrieved context and the question."""
    context = "\n\n".join(
        f"[{n}] {h.get('source', '')}\n{clean(str(h.get('text', '')))}"
        for n, h in enumerate(a.hits[:CONTEXT_PASSAGES], 1)
    )
    user = f"Context:\n{context}\n\nQuestion: {clean(a.question)}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def sft_records(answers: Iterable[LoggedAnswer], *, redacted: bool = True
                ) -> Iterator[dict[str, Any]]:
    """One chat example per approved (rated up) or corrected answer."""
    clean = redact if redacted else _identity
    for a in answers:
        approved = a.approved_answer
        if approved is None:
            continue
        messages = prompt_messages(a, clean)
        messages.append({"role": "assistant", "content": clean(approved)})
        yield {"messages": messages}


def preference_pairs(answers: Sequence[LoggedAnswer]) -> list[tuple[LoggedAnswer, str, str]]:
    """(prompt source, chosen, rejected): a correction beats its original; an approved answer
    beats a disliked answer to the same question for the same target."""
    approved: dict[tuple[str, str], str] = {}
    for a in answers:
        if a.approved_answer is not None:
            approved[(a.target, question_key(a.question))] = a.approved_answer
    pairs: list[tuple[LoggedAnswer, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for a in answers:
        if a.corrected_answer and a.rating != 1:
            chosen: str | None = a.corrected_answer
        elif a.rating == -1:
            chosen = approved.get((a.target, question_key(a.question)))
        else:
            continue
        if chosen is None or chosen == a.answer or (chosen, a.answer) in seen:
            continue
        seen.add((chosen, a.answer))
        pairs.append((a, chosen, a.answer))
    return pairs


def dpo_records(answers: Sequence[LoggedAnswer], *, redacted: bool = True
                ) -> Iterator[dict[str, Any]]:
    """Preference pairs in OpenAI's DPO fine-tuning format."""
    clean = redact if redacted else _identity
    for a, chosen, rejected in preference_pairs(answers):
        yield {
            "input": {"messages": prompt_messages(a, clean)},
            "preferred_output": [{"role": "assistant", "content": clean(chosen)}],
            "non_preferred_output": [{"role": "assistant", "content": clean(rejected)}],
        }


def evalset_records(questions: Iterable[EvalQuestion], *, redacted: bool = True
                    ) -> Iterator[dict[str, Any]]:
    """Eval questions in the JSONL form ``zhiku eval import`` reads."""
    for q in questions:
        data = q.to_dict()
        if redacted:
            data["question"] = redact(q.question)
            data["reference_answers"] = [redact(strip_markers(r)) for r in q.reference_answers]
        yield data


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Write records one per line (UTF-8); returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n
