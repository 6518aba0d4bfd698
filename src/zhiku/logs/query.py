"""Reading the conversation log: conversations with counts, filtered and paged, newest first.

A conversation matches a filter when one of its turns does (an assistant reply that was
refused, rated down, cites nothing, was flagged, came through a channel; a question containing
the search text). The channel is the face a turn came through, as stored in the reply's
metadata (``chat``: the HTTP chat route the console also uses, ``openai``: the OpenAI-compatible
endpoint, ``local``: the CLI or the Python API, and any channel another face records); a share
link's or widget's conversation is that channel by its own row, whatever face its turns came
through (``chat.store.conversation_channel``: the one view of a conversation's channel, which
the listing shows and the filter selects by).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from zhiku.chat.store import LINK_CHANNELS, conversation_channel
from zhiku.core.errors import InvalidInput
from zhiku.core.timestamps import until_bound
from zhiku.store.db import Database

CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_PAGE = 200

# the latest feedback on a reply, through the answer log that feedback is kept in
_RATING = (
    "(SELECT f.rating FROM answer_log a JOIN feedback f ON f.answer_id = a.id "
    "WHERE a.message_id = m.id AND a.workspace_id = c.workspace_id "
    "ORDER BY f.id DESC LIMIT 1)"
)


def meta_like(key: str, value: str | bool) -> str:
    """A LIKE pattern for ``"key": value`` in metadata written by ``json.dumps`` (values are
    booleans or channel names, which hold no LIKE wildcards)."""
    return "%" + json.dumps({key: value})[1:-1] + "%"


@dataclass(slots=True)
class LogFilter:
    """Which conversations to list; every field optional."""

    assistant_id: int | None = None
    channel: str | None = None
    since: str | None = None  # ISO date or time, inclusive
    until: str | None = None  # ISO date or time, inclusive (a date covers the whole day)
    refused: bool = False
    thumbs_down: bool = False
    no_citation: bool = False
    flagged: bool = False
    text: str | None = None  # in the questions, case-insensitive
    assistant_ids: list[int] | None = None  # only these (a scoped caller's reach)

    def check(self) -> None:
        """``InvalidInput`` on a malformed channel."""
        if self.channel is not None and not CHANNEL_RE.match(self.channel):
            raise InvalidInput("a channel is a lower-case name such as chat, openai or local")


_ROW_FIELDS = ("id", "assistant_id", "title", "user_id", "key_id", "created_at", "updated_at")


@dataclass(slots=True)
class LogEntry:
    """One conversation in the log with its turn counts."""

    id: int
    assistant_id: int | None
    title: str | None
    user_id: int | None
    key_id: int | None
    created_at: str
    updated_at: str
    channel: str
    turns: int
    refused: int
    thumbs_down: int
    no_citation: int
    first_question: str
    channels: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _reply_conditions(f: LogFilter) -> tuple[list[str], list[Any]]:
    conds: list[str] = []
    args: list[Any] = []
    if f.channel is not None and f.channel not in LINK_CHANNELS:
        conds.append("(m.metadata LIKE ? OR (? = 1 AND m.metadata NOT LIKE ?))")
        args.extend([meta_like("channel", f.channel), int(f.channel == "local"), '%"channel": %'])
    if f.refused:
        conds.append("m.metadata LIKE ?")
        args.append(meta_like("refused", True))
    if f.flagged:
        conds.append("m.metadata LIKE ?")
        args.append(meta_like("flagged", True))
    if f.no_citation:
        conds.append("m.citations = '[]' AND m.metadata NOT LIKE ?")
        args.append(meta_like("refused", True))
    if f.thumbs_down:
        conds.append(f"{_RATING} = -1")
    return conds, args


def _where(ws: int, f: LogFilter) -> tuple[str, list[Any]]:
    f.check()
    sql = "c.workspace_id = ?"
    args: list[Any] = [ws]
    if f.assistant_id is not None:
        sql += " AND c.assistant_id = ?"
        args.append(f.assistant_id)
    if f.assistant_ids is not None:
        if not f.assistant_ids:
            return sql + " AND 1 = 0", args
        sql += f" AND c.assistant_id IN ({', '.join('?' * len(f.assistant_ids))})"
        args.extend(f.assistant_ids)
    if f.since:
        sql += " AND c.updated_at >= ?"
        args.append(f.since)
    if f.until:
        sql += " AND c.created_at <= ?"
        args.append(until_bound(f.until))
    if f.channel in LINK_CHANNELS:  # the conversation's row says so (conversation_channel)
        sql += " AND c.channel = ?"
        args.append(f.channel)
    conds, cargs = _reply_conditions(f)
    if conds:
        sql += (" AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id "
                "AND m.role = 'assistant' AND " + " AND ".join(conds) + ")")
        args.extend(cargs)
    if f.text:
        like = "%" + f.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        sql += (" AND EXISTS (SELECT 1 FROM messages q WHERE q.conversation_id = c.id "
                "AND q.role = 'user' AND lower(q.content) LIKE ? ESCAPE '\\')")
        args.append(like)
    return sql, args


def list_log(
    db: Database, workspace_id: int, flt: LogFilter | None = None, *, offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[LogEntry]]:
    """The total number of matching conversations and one page of them, newest first."""
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"offset is at least 0 and limit 1-{MAX_PAGE}")
    where, args = _where(workspace_id, flt or LogFilter())
    total = int(db.conn.execute(f"SELECT count(*) FROM conversations c WHERE {where}",
                                args).fetchone()[0])
    rows = db.conn.execute(
        "SELECT c.id, c.assistant_id, c.title, c.user_id, c.key_id, c.channel, c.created_at, "
        "c.updated_at "
        f"FROM conversations c WHERE {where} ORDER BY c.updated_at DESC, c.id DESC "
        "LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
    return total, [entry(db, dict(r)) for r in rows]


def entry(db: Database, conv: dict[str, Any]) -> LogEntry:
    """A conversation row (as ``ConversationStore.get`` gives it) with its turn counts."""
    rows = db.conn.execute(
        f"SELECT m.role, m.content, m.citations, m.metadata, {_RATING} AS rating "
        "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE m.conversation_id = ? ORDER BY m.id", (conv["id"],)).fetchall()
    replies = [r for r in rows if r["role"] == "assistant"]
    metas = [json.loads(r["metadata"]) for r in replies]
    channels = list(dict.fromkeys(str(m.get("channel") or "local") for m in metas))
    first = next((str(r["content"]) for r in rows if r["role"] == "user"), "")
    return LogEntry(
        **{k: conv[k] for k in _ROW_FIELDS}, channels=channels,
        channel=conversation_channel(conv.get("channel"), channels),
        turns=len(replies),
        refused=sum(1 for m in metas if m.get("refused")),
        thumbs_down=sum(1 for r in replies if r["rating"] == -1),
        no_citation=sum(1 for r, m in zip(replies, metas, strict=True)
                        if r["citations"] == "[]" and not m.get("refused")),
        first_question=first[:500],
    )


@dataclass(slots=True)
class LogTurn:
    """One question and the reply to it, with the reply's citations and latest feedback."""

    message_id: int
    question_id: int | None
    question: str
    answer: str
    refused: bool
    flagged: bool
    channel: str
    model: str | None
    citations: list[dict[str, Any]]
    rating: int | None
    comment: str
    corrected_answer: str | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def turns(db: Database, conversation_id: int) -> list[LogTurn]:
    """The turns of a conversation (which the caller has checked is this workspace's)."""
    rows = db.conn.execute(
        "SELECT m.*, f.rating, f.comment, f.corrected_answer FROM messages m "
        "LEFT JOIN answer_log a ON a.id = (SELECT min(id) FROM answer_log WHERE message_id = m.id) "
        "LEFT JOIN feedback f ON f.id = (SELECT max(id) FROM feedback WHERE answer_id = a.id) "
        "WHERE m.conversation_id = ? ORDER BY m.id", (conversation_id,)).fetchall()
    out: list[LogTurn] = []
    question: tuple[int, str] | None = None
    for r in rows:
        if r["role"] == "user":
            question = (int(r["id"]), str(r["content"]))
            continue
        meta = json.loads(r["metadata"])
        out.append(LogTurn(
            message_id=int(r["id"]), question_id=question[0] if question else None,
            question=question[1] if question else "", answer=r["content"],
            refused=bool(meta.get("refused")), flagged=bool(meta.get("flagged")),
            channel=str(meta.get("channel") or "local"), model=meta.get("model"),
            citations=json.loads(r["citations"]), rating=r["rating"],
            comment=r["comment"] or "", corrected_answer=r["corrected_answer"],
            created_at=r["created_at"],
        ))
        question = None
    return out
