"""The answer log and feedback on answers: thumbs up/down, comments, corrected answers.

Every answer given through this API is logged (question, answer, citations, hits, target) so
feedback has something to point at and export has the retrieved context. An answer given in
a conversation carries the id of its message in ``message_id``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from zhiku.answer.types import Answer, Citation
from zhiku.core.errors import InvalidInput, NotFound
from zhiku.core.timestamps import until_bound
from zhiku.evals.scoring import strip_markers
from zhiku.evals.types import EvalQuestion, cited, source_names
from zhiku.retrieval.types import Hit
from zhiku.store.db import Row

if TYPE_CHECKING:
    from zhiku.chat.store import StoredMessage
    from zhiku.service import Zhiku

APP_TARGET = "app:"
"""Target prefix of an assistant's answers (``app:SLUG``, as ``zhiku eval`` names targets)."""

RatingName = Literal["up", "down", "neutral", "none"]
"""A verdict as every face spells it: ``none`` is another name of ``neutral``."""
RATINGS: dict[str, int] = {"up": 1, "down": -1, "neutral": 0, "none": 0}
RATING_NAMES: dict[int, RatingName] = {1: "up", -1: "down", 0: "neutral"}
HITS_LOGGED = 8


def rating_value(name: str) -> int:
    """``up``/``down``/``neutral`` (or ``none``) → 1/-1/0; ``InvalidInput`` otherwise."""
    value = RATINGS.get(name.strip().lower())
    if value is None:
        raise InvalidInput("rating is up, down or neutral (none)")
    return value


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

    @property
    def assistant(self) -> str | None:
        """The slug of the assistant that gave the answer (None for other targets)."""
        return self.target[len(APP_TARGET):] if self.target.startswith(APP_TARGET) else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(slots=True)
class FeedbackFilter:
    """Which logged answers to list or export; every field optional."""

    target: str | None = None  # "kb:NAME" or "app:NAME"
    since: str | None = None  # ISO date or timestamp, inclusive
    until: str | None = None  # ISO date or timestamp, inclusive (a date covers the whole day)
    rating: int | None = None  # 1 (up), -1 (down) or 0 (neutral)
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
        raise InvalidInput("rating is 1 (up), -1 (down) or 0 (neutral)")
    get_answer(zk, answer_id)
    with zk.db.write() as conn:
        row = conn.execute(
            "INSERT INTO feedback (answer_id, rating, comment, corrected_answer, tags) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (answer_id, rating, comment, corrected_answer or None,
             json.dumps(list(tags), ensure_ascii=False)),
        ).fetchone()
    return int(row[0])


def rate_reply(zk: Zhiku, message_id: int, rating: int | str, *, comment: str = "",
               corrected_answer: str | None = None, tags: Sequence[str] = ()) -> LoggedAnswer:
    """Feedback on an assistant's reply in a conversation (a rating name or 1/-1/0). The reply
    is logged on its first feedback (target ``app:SLUG``, or ``chat`` once its assistant is
    gone); later feedback goes to the same entry. Returns the entry with its latest verdict."""
    value = rating_value(rating) if isinstance(rating, str) else rating
    reply = zk.llm.conversations.message(message_id)
    if reply.role != "assistant":
        raise NotFound(f"message {message_id} does not exist")
    answer_id = _reply_logged(zk, reply)
    add_feedback(zk, answer_id, value, comment=comment, corrected_answer=corrected_answer,
                 tags=tags)
    return get_answer(zk, answer_id)


def _reply_logged(zk: Zhiku, reply: StoredMessage) -> int:
    """The answer-log entry of a reply, created if missing: the check and the insert run in
    one transaction that first writes the reply's row, so that concurrent first ratings of
    one reply queue on its row lock and log it once."""
    db = zk.db
    with db.write() as conn:
        conn.execute("UPDATE messages SET role = role WHERE id = ?", (reply.id,))
        row = conn.execute(
            "SELECT min(id) FROM answer_log WHERE workspace_id = ? AND message_id = ?",
            (zk.workspace_id, reply.id),
        ).fetchone()
        if row[0] is not None:
            return int(row[0])
        slug = _slug(zk, zk.llm.conversations.get(reply.conversation_id)["assistant_id"])
        target = APP_TARGET + slug if slug else "chat"
        question = zk.llm.conversations.question_of(reply)
        return log_answer(zk, target, question, _answer_of(reply), message_id=reply.id)


def _slug(zk: Zhiku, assistant_id: int | None) -> str | None:
    """The slug of an assistant (None: detached, its assistant was deleted)."""
    if not assistant_id:
        return None
    try:
        return zk.llm.assistants.get_by_id(assistant_id).slug
    except NotFound:
        return None


def _answer_of(msg: StoredMessage) -> Answer:
    """A stored reply as an ``Answer`` for the log; its cited passages stand in for the hits."""
    citations = [Citation(**c) for c in msg.citations]
    hits = [
        Hit(chunk_id=c.chunk_id, document_id=c.document_id, kb_id=0, source=c.source,
            title=c.title, text=c.text, matched_text=c.text, heading_path=list(c.heading_path),
            page=c.page, score=c.score, relevance=c.score)
        for c in citations
    ]
    return Answer(msg.content, citations, refused=bool(msg.metadata.get("refused")), hits=hits)


def conversation_ratings(zk: Zhiku, conversation_id: int) -> dict[int, RatingName]:
    """The latest rating (up/down/neutral) of each rated reply in a conversation, by message
    id: a reopened conversation shows the feedback already given."""
    rows = zk.db.conn.execute(
        "SELECT a.message_id, f.rating FROM answer_log a JOIN messages m ON m.id = a.message_id "
        "JOIN feedback f ON f.id = (SELECT max(id) FROM feedback WHERE answer_id = a.id) "
        "WHERE a.workspace_id = ? AND m.conversation_id = ?",
        (zk.workspace_id, conversation_id),
    ).fetchall()
    return {int(r["message_id"]): RATING_NAMES[int(r["rating"])] for r in rows}


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
        args.append(until_bound(f.until))
    if f.rating is not None:
        sql += " AND f.rating = ?"
        args.append(f.rating)
    out = [_logged(r) for r in zk.db.conn.execute(sql + " ORDER BY a.id", args)]
    wanted = set(f.tags)
    return [a for a in out if wanted <= set(a.tags)] if wanted else out


def eval_questions(answers: Sequence[LoggedAnswer]) -> list[EvalQuestion]:
    """Eval questions from approved or corrected answers (the reference is the approved text).

    Expected sources are the answer's citations when it was approved as it stood. A corrected
    answer's citations are not expected (the correction replaced it) but kept in the
    question's metadata as ``cited_sources``, so that the question is withheld from readers
    who may not read them (``zhiku.evals.withhold``).
    """
    out = []
    for a in answers:
        approved = a.approved_answer
        if approved is None:
            continue
        names = source_names(a.citations)
        sources = {} if a.corrected_answer else dict.fromkeys(names, 1)
        extra = cited(names) if a.corrected_answer else {}
        out.append(EvalQuestion(
            question=a.question, ext_id=f"answer-{a.id}", expected_sources=sources,
            reference_answers=[strip_markers(approved)], answerable=not a.refused,
            tags=list(a.tags), metadata={"answer_id": a.id, "target": a.target, **extra},
        ))
    return out
