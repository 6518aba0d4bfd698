"""Every model call, recorded: tokens, latency, time to first token, cost, app, conversation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zhiku.models.llm.types import CallObserver, CallRecord
from zhiku.store.db import Database


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
