"""Usage over time: tokens, cost and latency per time bucket and per assistant or API key.

Per assistant the figures come from ``model_calls`` (every model call and extractive answer,
whether asked through the API, the CLI or Python); per key from the API's request log
``api_calls`` (requests made with a session token have no key: their group is None). Buckets
are prefixes of the ISO-8601 ``created_at`` text (``substr`` works on SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any, Literal

from zhiku.store.db import Database

By = Literal["assistant", "key"]
Bucket = Literal["day", "hour"]
WIDTH: dict[str, int] = {"day": 10, "hour": 13}  # 2024-05-01 / 2024-05-01T10

_BY_ASSISTANT = (
    "SELECT substr(m.created_at, 1, {w}) bucket, a.slug grp, a.slug label, "
    "sum(CASE WHEN m.purpose = 'answer' AND m.ok = 1 THEN 1 ELSE 0 END) requests, "
    "count(*) calls, sum(m.input_tokens) input_tokens, sum(m.output_tokens) output_tokens, "
    "sum(m.cost) cost, avg(m.latency_ms) avg_latency_ms, max(m.latency_ms) max_latency_ms "
    "FROM model_calls m LEFT JOIN assistants a ON a.id = m.assistant_id "
    "WHERE m.workspace_id = ?{where} "
    "GROUP BY substr(m.created_at, 1, {w}), a.slug ORDER BY bucket, grp"
)
_BY_KEY = (
    "SELECT substr(c.created_at, 1, {w}) bucket, c.key_id grp, k.name label, "
    "count(*) requests, sum(c.model_calls) calls, sum(c.input_tokens) input_tokens, "
    "sum(c.output_tokens) output_tokens, sum(c.cost) cost, avg(c.latency_ms) avg_latency_ms, "
    "max(c.latency_ms) max_latency_ms "
    "FROM api_calls c LEFT JOIN api_keys k ON k.id = c.key_id "
    "WHERE c.workspace_id = ?{where} "
    "GROUP BY substr(c.created_at, 1, {w}), c.key_id, k.name ORDER BY bucket, grp"
)


def series(
    db: Database,
    workspace_id: int,
    by: By,
    bucket: Bucket = "day",
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """One row per (bucket, group): requests, model calls, tokens, cost, mean and max latency.

    ``since``/``until`` are ISO dates or times compared with ``created_at`` (``until`` is
    exclusive)."""
    sql, alias = (_BY_ASSISTANT, "m") if by == "assistant" else (_BY_KEY, "c")
    where = ""
    params: list[Any] = [workspace_id]
    if since:
        where += f" AND {alias}.created_at >= ?"
        params.append(since)
    if until:
        where += f" AND {alias}.created_at < ?"
        params.append(until)
    rows = db.conn.execute(sql.format(w=WIDTH[bucket], where=where), params).fetchall()
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
        for r in rows
    ]
