"""What each app costs: requests, tokens, cost and latency per app (and per day or hour).

The figures come from where each kind records them: an assistant's model calls
(``model_calls``, as ``zk.usage(by="assistant")`` counts them: ``requests`` are answers given,
latency is per model call), a workflow's runs (``workflow_runs``) and an agent's runs
(``agent_runs``): ``requests`` are runs, latency is per run.
"""

from __future__ import annotations

from typing import Any

from zhiku.chat.accounting import Bucket
from zhiku.core.errors import InvalidInput
from zhiku.store.db import Database

_WIDTH: dict[str, int] = {"day": 10, "hour": 13}  # 2024-05-01 / 2024-05-01T10

# One row per request-like record: kind, slug, time, request (0/1), tokens, cost, latency.
_RECORDS = (
    "SELECT 'assistant' kind, a.slug slug, m.created_at ts, "
    "CASE WHEN m.purpose = 'answer' AND m.ok = 1 THEN 1 ELSE 0 END req, m.input_tokens it, "
    "m.output_tokens ot, m.cost cost, m.latency_ms lat FROM model_calls m "
    "JOIN assistants a ON a.id = m.assistant_id WHERE m.workspace_id = ? "
    "UNION ALL SELECT 'workflow', w.slug, r.started_at, 1, r.input_tokens, r.output_tokens, "
    "r.cost, r.latency_ms FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
    "WHERE w.workspace_id = ? "
    "UNION ALL SELECT 'agent', g.slug, r.started_at, 1, r.input_tokens, r.output_tokens, "
    "r.cost, r.latency_ms FROM agent_runs r JOIN agents g ON g.id = r.agent_id "
    "WHERE g.workspace_id = ?"
)


def app_usage(db: Database, workspace_id: int, slug: str | None = None,
              bucket: Bucket | None = None, since: str | None = None,
              until: str | None = None) -> list[dict[str, Any]]:
    """Requests, tokens, cost, mean and max latency per app (``slug``: only that one), and per
    time ``bucket`` when given; ``since``/``until`` (exclusive) are ISO dates or times.
    Ordered by bucket, then app."""
    if bucket is not None and bucket not in _WIDTH:
        raise InvalidInput("a usage bucket is a day or an hour")
    cut = f"substr(u.ts, 1, {_WIDTH[bucket]})" if bucket else "NULL"
    where = "1 = 1"
    params: list[Any] = [workspace_id, workspace_id, workspace_id]
    for clause, value in (("u.slug = ?", slug), ("u.ts >= ?", since), ("u.ts < ?", until)):
        if value:
            where += f" AND {clause}"
            params.append(value)
    group = f"{cut + ', ' if bucket else ''}u.kind, u.slug"
    sql = (f"SELECT {cut} bucket, u.kind kind, u.slug slug, sum(u.req) requests, "
           "sum(u.it) input_tokens, sum(u.ot) output_tokens, sum(u.cost) cost, "
           "avg(u.lat) avg_latency_ms, max(u.lat) max_latency_ms "
           f"FROM ({_RECORDS}) u WHERE {where} GROUP BY {group} "
           f"ORDER BY {'bucket, ' if bucket else ''}u.slug, u.kind")
    return [
        {"bucket": r["bucket"], "kind": r["kind"], "app": r["slug"],
         "requests": int(r["requests"] or 0), "input_tokens": int(r["input_tokens"] or 0),
         "output_tokens": int(r["output_tokens"] or 0), "cost": float(r["cost"] or 0.0),
         "avg_latency_ms": float(r["avg_latency_ms"] or 0.0),
         "max_latency_ms": float(r["max_latency_ms"] or 0.0)}
        for r in db.conn.execute(sql, params).fetchall()
    ]
