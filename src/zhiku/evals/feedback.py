"""The answer log and feedback on answers: thumbs up/down, comments, corrected answers.

Every answer given through this API is logged (question, answer, citations, hits, target) so
feedback has something to point at and export has the retrieved context. Once conversations
exist (issue 3) a logged answer carries the id of its message in ``message_id``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from zhiku.answer.types import Answer
from zhiku.core.errors import InvalidInput, NotFound
from zhiku.evals.scoring import strip_markers
from zhiku.evals.types import EvalQuestion
from zhiku.store.db import Row

if TYPE_CHECKING:
    from zhiku.service import Zhiku

RATINGS = {"up": 1, "down": -1, "none": 0}
HITS_LOGGED = 8


@dataclass(slots=True)
class LoggedAnswer:
    """An answer from the log with its latest feedback (if any)."""

    id: int
    target: str
    question: str
    answer: str
    refused: bool
    citations: list[dict[str, Any]]
    hits: list[dict[str, Any]]
    created_at: str
    message_id: int | None = None
    rating: int | None = None
    comment: str = ""
    corrected_answer: str | None = None
    tags: list[str] = field(default_factory=list)

    @property
    def approved_answer(self) -> str | None:
        """The corrected answer, else the answer itself when rated up; None otherwise."""
        if self.corrected_answer:
            return self.corrected_answer
        return self.answer if self.rating == 1 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(slots=True)
class FeedbackFilter:
    """Which logged answers to list or export; every field optional."""

    target: str | None = None  # "kb:NAME" or "app:NAME"
    since: str | None = None  # ISO date or timestamp, inclusive
    until: str | None = None  # ISO date or timestamp, inclusive (a date covers the whole day)
    rating: int | None = None  # 1, -1 or 0
    tags: Sequence[str] = ()
    with_feedback: bool = True


def log_answer(zk: Zhiku, target: str, question: str, answer: Answer,
               message_id: int | None = None) -> int:
    """Store one answer in the log; returns its id."""
    hits = [{"chunk_id": h.chunk_id, "source": h.source, "title": h.title, "score": h.score,
             "location": h.location, "text": h.text} for h in answer.hits[:HITS_LOGGED]]
    with zk.db.write() as conn:
        row = conn.execute(
            "INSERT INTO answer_log (workspace_id, target, question, answer, refused, citations, "
            "hits, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (zk.workspace_id, target, question, answer.answer, int(answer.refused),
             json.dumps([asdict(c) for c in answer.citations], ensure_ascii=False),
             json.dumps(hits, ensure_ascii=False), message_id),
        ).fetchone()
    return int(row[0])


def ask(zk: Zhiku, kb: str | Sequence[str], question: str,
        top_k: int | None = None) -> tuple[int, Answer]:
    """``Zhiku.ask``, logged so that feedback can be given on the answer."""
    answer = zk.ask(kb, question, top_k=top_k)
    names = [kb] if isinstance(kb, str) else list(kb)
    return log_answer(zk, "kb:" + ",".join(names), question, answer), answer


def add_feedback(zk: Zhiku, answer_id: int, rating: int, *, comment: str = "",
                 corrected_answer: str | None = None, tags: Sequence[str] = ()) -> int:
    """Record feedback on a logged answer; the latest feedback on an answer is the one used."""
    if rating not in (-1, 0, 1):
        raise InvalidInput("rating is 1 (up), -1 (down) or 0 (none)")
    get_answer(zk, answer_id)
    with zk.db.write() as conn:
        row = conn.execute(
            "INSERT INTO feedback (answer_id, rating, comment, corrected_answer, tags) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (answer_id, rating, comment, corrected_answer or None,
             json.dumps(list(tags), ensure_ascii=False)),
        ).fetchone()
    return int(row[0])


_SELECT = (
    "SELECT a.*, f.rating, f.comment, f.corrected_answer, f.tags AS ftags FROM answer_log a "
    "LEFT JOIN feedback f ON f.id = (SELECT max(id) FROM feedback WHERE answer_id = a.id) "
    "WHERE a.workspace_id = ?"
)


def _logged(row: Row) -> LoggedAnswer:
    return LoggedAnswer(
        id=row["id"], target=row["target"], question=row["question"], answer=row["answer"],
        refused=bool(row["refused"]), citations=json.loads(row["citations"]),
        hits=json.loads(row["hits"]), created_at=row["created_at"],
        message_id=row["message_id"], rating=row["rating"], comment=row["comment"] or "",
        corrected_answer=row["corrected_answer"], tags=json.loads(row["ftags"] or "[]"),
    )


def get_answer(zk: Zhiku, answer_id: int) -> LoggedAnswer:
    """One logged answer with its latest feedback."""
    row = zk.db.conn.execute(_SELECT + " AND a.id = ?",
                                   (zk.workspace_id, answer_id)).fetchone()
    if row is None:
        raise NotFound(f"answer {answer_id} does not exist")
    return _logged(row)


def _until(value: str) -> str:
    return value + "T23:59:59.999Z" if len(value) == 10 else value


def list_answers(zk: Zhiku, flt: FeedbackFilter | None = None) -> list[LoggedAnswer]:
    """Logged answers matching the filter, oldest first."""
    f = flt or FeedbackFilter()
    sql = _SELECT
    args: list[Any] = [zk.workspace_id]
    if f.with_feedback:
        sql += " AND f.id IS NOT NULL"
    if f.target:
        sql += " AND a.target = ?"
        args.append(f.target)
    if f.since:
        sql += " AND a.created_at >= ?"
        args.append(f.since)
    if f.until:
        sql += " AND a.created_at <= ?"
        args.append(_until(f.until))
    if f.rating is not None:
        sql += " AND f.rating = ?"
        args.append(f.rating)
    out = [_logged(r) for r in zk.db.conn.execute(sql + " ORDER BY a.id", args)]
    wanted = set(f.tags)
    return [a for a in out if wanted <= set(a.tags)] if wanted else out


def eval_questions(answers: Sequence[LoggedAnswer]) -> list[EvalQuestion]:
    """Eval questions from approved or corrected answers (the reference is the approved text).

    Expected sources are the answer's citations when it was approved as it stood.
    """
    out = []
    for a in answers:
        approved = a.approved_answer
        if approved is None:
            continue
        sources = {} if a.corrected_answer else {c["source"]: 1 for c in a.citations}
        out.append(EvalQuestion(
            question=a.question, ext_id=f"answer-{a.id}", expected_sources=sources,
            reference_answers=[strip_markers(approved)], answerable=not a.refused,
            tags=list(a.tags), metadata={"answer_id": a.id, "target": a.target},
        ))
    return out
