"""What answering costs: every model call (``model_calls``), every request a face made on
someone's behalf (``api_calls``: which key or user asked, through which endpoint), and one
query that sums either of them by group and over time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from zhiku.core.errors import InvalidInput
from zhiku.models.llm.types import CallObserver, CallRecord
from zhiku.store.db import Database

if TYPE_CHECKING:
    from zhiku.chat.store import Owner

UsageBy = Literal["assistant", "key", "day"]
Bucket = Literal["day", "hour"]
_WIDTH: dict[str, int] = {"day": 10, "hour": 13}  # 2024-05-01 / 2024-05-01T10


@dataclass(slots=True)
class TurnUsage:
    """Tokens and cost of the model calls of one answer, and the time the answer took."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    latency_ms: float = 0.0


def usage_of(calls: Sequence[CallRecord], latency_ms: float = 0.0) -> TurnUsage:
    """Summed tokens and cost of a turn's model calls, with the turn's own duration."""
    return TurnUsage(
        input_tokens=sum(c.usage.input_tokens for c in calls),
        output_tokens=sum(c.usage.output_tokens for c in calls),
        cost=round(sum(c.cost for c in calls), 8),
        latency_ms=round(latency_ms, 3),
    )


@dataclass(slots=True)
class CallContext:
    """What a call served. ``sink``, when given, also receives every record (the caller's own
    tally of one turn, e.g. the HTTP API's per-request usage)."""

    purpose: str
    assistant_id: int | None = None
    conversation_id: int | None = None
    sink: list[CallRecord] | None = field(default=None, repr=False)


class CallLog:
    """Writes ``CallRecord``s to ``model_calls`` and reads them back."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self._db = db
        self._ws = workspace_id

    def observer(self, context: CallContext) -> CallObserver:
        """A callback for ``MeteredChatModel`` that records under ``context``."""
        return lambda record: self.record(record, context)

    def record(self, r: CallRecord, c: CallContext) -> None:
        """Store one call (and hand it to the context's sink)."""
        if c.sink is not None:
            c.sink.append(r)
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO model_calls (workspace_id, assistant_id, conversation_id, purpose, "
                "provider, model, input_tokens, output_tokens, tokens_estimated, latency_ms, "
                "ttft_ms, cost, stream, ok, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (self._ws, c.assistant_id, c.conversation_id, c.purpose, r.provider, r.model,
                 r.usage.input_tokens, r.usage.output_tokens, int(r.usage.estimated),
                 r.latency_ms, r.ttft_ms, r.cost, int(r.stream), int(r.ok), r.error),
            )

    def calls(
        self, conversation_id: int | None = None, assistant_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Recorded calls, oldest first, optionally for one conversation or assistant."""
        sql = "SELECT * FROM model_calls WHERE workspace_id = ?"
        args: list[Any] = [self._ws]
        if conversation_id is not None:
            sql += " AND conversation_id = ?"
            args.append(conversation_id)
        if assistant_id is not None:
            sql += " AND assistant_id = ?"
            args.append(assistant_id)
        return [dict(r) for r in self._db.conn.execute(sql + " ORDER BY id", args).fetchall()]

    def totals(self, assistant_id: int | None = None) -> dict[str, float]:
        """Summed tokens and cost, and the call count."""
        sql = ("SELECT COUNT(*) AS calls, COALESCE(SUM(input_tokens), 0) AS input_tokens, "
               "COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(cost), 0) AS cost "
               "FROM model_calls WHERE workspace_id = ?")
        args: list[Any] = [self._ws]
        if assistant_id is not None:
            sql += " AND assistant_id = ?"
            args.append(assistant_id)
        return dict(self._db.conn.execute(sql, args).fetchone())


class RequestLog:
    """Writes one ``api_calls`` row per answered request of a face (who asked, its usage)."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self._db = db
        self._ws = workspace_id

    def record(
        self, owner: Owner | None, assistant: str, endpoint: str, usage: TurnUsage, calls: int
    ) -> None:
        """Store one answered request."""
        key_id = owner.key_id if owner is not None else None
        user_id = owner.user_id if owner is not None else None
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO api_calls (workspace_id, key_id, user_id, assistant, endpoint, "
                "input_tokens, output_tokens, cost, latency_ms, model_calls) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (self._ws, key_id, user_id, assistant, endpoint, usage.input_tokens,
                 usage.output_tokens, usage.cost, usage.latency_ms, calls),
            )


# Per assistant (and per day without buckets) the figures come from ``model_calls``: every
# model call and extractive answer, asked through any face. Per key they come from
# ``api_calls`` (requests made with a session token have no key: their group is None).
# ``requests``: answers given (a refusal without a model call counts only per key);
# ``calls``: model calls, rewrites and failed attempts included. Buckets and days are prefixes
# of the ISO-8601 ``created_at`` text (``substr`` works on SQLite and PostgreSQL).
_FROM_CALLS = (
    "sum(CASE WHEN m.purpose = 'answer' AND m.ok = 1 THEN 1 ELSE 0 END) requests, "
    "count(*) calls, sum(m.input_tokens) input_tokens, sum(m.output_tokens) output_tokens, "
    "sum(m.cost) cost, avg(m.latency_ms) avg_latency_ms, max(m.latency_ms) max_latency_ms "
    "FROM model_calls m LEFT JOIN assistants a ON a.id = m.assistant_id"
)
_FROM_REQUESTS = (
    "count(*) requests, sum(m.model_calls) calls, sum(m.input_tokens) input_tokens, "
    "sum(m.output_tokens) output_tokens, sum(m.cost) cost, avg(m.latency_ms) avg_latency_ms, "
    "max(m.latency_ms) max_latency_ms "
    "FROM api_calls m LEFT JOIN api_keys k ON k.id = m.key_id"
)


def usage(
    db: Database,
    workspace_id: int,
    by: UsageBy = "assistant",
    bucket: Bucket | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """Requests, model calls, tokens, cost, mean and max latency per group (``by``: assistant
    slug, key id or day), and per time ``bucket`` when given (``bucket`` then holds its
    start). ``label``: the group's name (a key's name). ``since``/``until`` are ISO dates or
    times compared with ``created_at`` (``until`` exclusive). Ordered by bucket, then group,
    None first."""
    if by == "key":
        group, label, source = "m.key_id", "k.name", _FROM_REQUESTS
    elif by == "assistant":
        group, label, source = "a.slug", "a.slug", _FROM_CALLS
    elif by == "day":
        group, label, source = "substr(m.created_at, 1, 10)", "NULL", _FROM_CALLS
    else:
        raise InvalidInput("usage is grouped by assistant, key or day")
    if bucket is not None and bucket not in _WIDTH:
        raise InvalidInput("a usage bucket is a day or an hour")
    cut = f"substr(m.created_at, 1, {_WIDTH[bucket]})" if bucket else "NULL"
    where = "m.workspace_id = ?"
    params: list[Any] = [workspace_id]
    if since:
        where += " AND m.created_at >= ?"
        params.append(since)
    if until:
        where += " AND m.created_at < ?"
        params.append(until)
    keys = [k for k in (cut if bucket else None, group, label if by == "key" else None) if k]
    sql = (f"SELECT {cut} bucket, {group} grp, {label} label, {source} WHERE {where} "
           f"GROUP BY {', '.join(keys)} ORDER BY {'bucket, ' if bucket else ''}grp NULLS FIRST")
    return [
        {
            "bucket": r["bucket"], "group": r["grp"], "label": r["label"],
            "requests": int(r["requests"] or 0), "calls": int(r["calls"] or 0),
            "input_tokens": int(r["input_tokens"] or 0),
            "output_tokens": int(r["output_tokens"] or 0),
            "cost": float(r["cost"] or 0.0),
            "avg_latency_ms": float(r["avg_latency_ms"] or 0.0),
            "max_latency_ms": float(r["max_latency_ms"] or 0.0),
        }
        for r in db.conn.execute(sql, params).fetchall()
    ]
