"""Eval questions from logged turns: the question asked, the reference is the corrected answer
when there is one, else the reply as given; an answered reply's cited sources are expected. A
corrected reply's cited sources are kept in the question's metadata (``cited_sources``): not
scored, but counted when withholding the question (``zhiku.evals.withhold``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from zhiku.core.errors import InvalidInput, NotFound
from zhiku.evals import sets
from zhiku.evals.scoring import strip_markers
from zhiku.evals.types import EvalQuestion, EvalSet, cited, source_names
from zhiku.logs.query import turns

if TYPE_CHECKING:
    from zhiku.service import Zhiku

MAX_TURNS = 1000


def questions_from(zk: Zhiku, message_ids: Sequence[int]) -> list[EvalQuestion]:
    """One eval question per reply id (``NotFound`` for one not in this workspace). A refused
    reply without a correction makes an unanswerable question."""
    if not message_ids:
        raise InvalidInput("select at least one logged answer")
    if len(message_ids) > MAX_TURNS:
        raise InvalidInput(f"at most {MAX_TURNS} answers at once")
    out: list[EvalQuestion] = []
    sources: dict[str, int]
    for mid in dict.fromkeys(message_ids):
        reply = zk.message(mid)
        if reply.role != "assistant":
            raise NotFound(f"message {mid} does not exist")
        turn = next(t for t in turns(zk.db, reply.conversation_id) if t.message_id == mid)
        fixed = turn.corrected_answer
        names = source_names(turn.citations)
        extra: dict[str, list[str]] = {}
        if fixed:
            refs, sources, answerable, extra = [fixed], {}, True, cited(names)
        elif turn.refused:
            refs, sources, answerable = [], {}, False
        else:
            refs, sources, answerable = [strip_markers(turn.answer)], dict.fromkeys(names, 1), True
        out.append(EvalQuestion(
            question=turn.question, ext_id=f"message-{mid}", expected_sources=sources,
            reference_answers=refs, answerable=answerable,
            metadata={"message_id": mid, **extra},
        ))
    return out


def set_from_log(zk: Zhiku, name: str, message_ids: Sequence[int], *,
                 replace: bool = False) -> EvalSet:
    """A new eval set of the selected logged turns."""
    return sets.create_set(zk.evals, name, questions_from(zk, message_ids), origin="logs",
                           replace=replace)
