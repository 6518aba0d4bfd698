"""An app's run history in one shape for every kind: a workflow's recorded runs, an agent's
recorded runs, an assistant's answered turns (its replies in stored conversations).

Each run: ``id`` (a workflow or agent run id, an assistant reply's message id), ``kind``,
``app``, ``version`` (None: the draft), ``status``, ``input`` (a workflow's inputs, the
question or message otherwise), ``output`` (the answer text), ``error``, ``input_tokens``,
``output_tokens``, ``cost``, ``latency_ms`` (None where the kind does not record them per run:
an assistant's turns) and ``started_at``. A workflow's or agent's run made through a share link
also has its ``channel``, ``share_link_id`` and the ``external_user`` and ``external_name`` of
a signed identity (None otherwise).
"""

from __future__ import annotations

import json
from typing import Any

from zhiku.apps.running import AppKind
from zhiku.chat.store import Owner
from zhiku.core.errors import NotFound
from zhiku.store.db import Database, Row

_WORKFLOW = (
    "SELECT r.id, r.version, r.status, r.inputs, r.outputs, r.error, r.input_tokens, "
    "r.output_tokens, r.cost, r.latency_ms, r.started_at, r.channel, r.share_link_id, "
    "r.external_user, r.external_name FROM workflow_runs r "
    "JOIN workflows w ON w.id = r.workflow_id WHERE w.workspace_id = ? AND w.slug = ?"
)
_AGENT = (
    "SELECT r.id, r.version, r.stop_reason, r.message, r.answer, r.error, r.input_tokens, "
    "r.output_tokens, r.cost, r.latency_ms, r.started_at, r.channel, r.share_link_id, "
    "r.external_user, r.external_name FROM agent_runs r "
    "JOIN agents a ON a.id = r.agent_id WHERE a.workspace_id = ? AND a.slug = ?"
)
_RUN_TABLES = {"workflow": "workflow_runs", "agent": "agent_runs"}
_ASSISTANT = (
    "SELECT m.id, m.content, m.metadata, m.created_at, c.id AS conversation_id, "
    "(SELECT q.content FROM messages q WHERE q.conversation_id = m.conversation_id "
    "AND q.id < m.id AND q.role = 'user' ORDER BY q.id DESC LIMIT 1) AS question "
    "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
    "JOIN assistants a ON a.id = c.assistant_id "
    "WHERE a.workspace_id = ? AND a.slug = ? AND m.role = 'assistant'"
)


class RunHistory:
    """Reads the runs of a workspace's apps."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self._db = db
        self._ws = workspace_id

    def runs(self, kind: AppKind, slug: str, *, limit: int = 50, offset: int = 0,
             owner: Owner | None = None) -> list[dict[str, Any]]:
        """The app's runs, newest first; ``owner``: only the assistant turns in conversations
        that this user or key started (workflow and agent runs have no owner)."""
        sql, args, shape = self._query(kind, slug, owner)
        rows = self._db.conn.execute(
            f"{sql} ORDER BY {'m' if kind == 'assistant' else 'r'}.id DESC LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return [shape(r, kind, slug) for r in rows]

    def run(self, kind: AppKind, slug: str, run_id: int, owner: Owner | None = None
            ) -> dict[str, Any]:
        """One run of the app (``NotFound`` for a run of another app or workspace)."""
        sql, args, shape = self._query(kind, slug, owner)
        alias = "m" if kind == "assistant" else "r"
        row = self._db.conn.execute(f"{sql} AND {alias}.id = ?", [*args, run_id]).fetchone()
        if row is None:
            raise NotFound(f"app '{slug}' has no run {run_id}")
        return shape(row, kind, slug)

    def claim(self, kind: AppKind, run_id: int, owner: Owner) -> None:
        """Record a share link's visitor as who made a workflow's or agent's run."""
        with self._db.write() as conn:
            conn.execute(
                f"UPDATE {_RUN_TABLES[kind]} SET channel = ?, share_link_id = ?, visitor = ?, "
                "external_user = ?, external_name = ? WHERE id = ? AND workspace_id = ?",
                (owner.channel, owner.share_link_id, owner.visitor, owner.external_user,
                 owner.external_name, run_id, self._ws))

    def _query(self, kind: AppKind, slug: str, owner: Owner | None
               ) -> tuple[str, list[Any], Any]:
        args: list[Any] = [self._ws, slug]
        if kind == "workflow":
            return _WORKFLOW, args, _workflow_run
        if kind == "agent":
            return _AGENT, args, _agent_run
        sql = _ASSISTANT
        if owner is not None:
            if owner.key_id is not None:
                sql += " AND c.key_id = ?"
                args.append(owner.key_id)
            elif owner.user_id is not None:
                sql += " AND c.user_id = ?"
                args.append(owner.user_id)
            else:
                sql += " AND 1 = 0"
        return sql, args, _assistant_run


def _base(kind: AppKind, slug: str, row: Row) -> dict[str, Any]:
    return {"id": row["id"], "kind": kind, "app": slug}


def _visitor(row: Row) -> dict[str, Any]:
    return {k: row[k] for k in ("channel", "share_link_id", "external_user", "external_name")}


def _workflow_run(row: Row, kind: AppKind, slug: str) -> dict[str, Any]:
    outputs = json.loads(row["outputs"])
    answer = outputs.get("answer") if isinstance(outputs, dict) else None
    return {**_base(kind, slug, row), "version": row["version"], "status": row["status"],
            "input": json.loads(row["inputs"]),
            "output": answer if isinstance(answer, str) else "", "outputs": outputs,
            "error": row["error"], "input_tokens": row["input_tokens"],
            "output_tokens": row["output_tokens"], "cost": row["cost"],
            "latency_ms": row["latency_ms"], "started_at": row["started_at"], **_visitor(row)}


def _agent_run(row: Row, kind: AppKind, slug: str) -> dict[str, Any]:
    reason = row["stop_reason"]
    status = "succeeded" if reason == "answered" else \
        "cancelled" if reason == "cancelled" else "failed"
    return {**_base(kind, slug, row), "version": row["version"], "status": status,
            "stop_reason": reason, "input": row["message"], "output": row["answer"],
            "error": row["error"], "input_tokens": row["input_tokens"],
            "output_tokens": row["output_tokens"], "cost": row["cost"],
            "latency_ms": row["latency_ms"], "started_at": row["started_at"], **_visitor(row)}


def _assistant_run(row: Row, kind: AppKind, slug: str) -> dict[str, Any]:
    meta = json.loads(row["metadata"])
    return {**_base(kind, slug, row), "version": meta.get("assistant_version"),
            "status": "succeeded", "input": row["question"] or "", "output": row["content"],
            "refused": bool(meta.get("refused")), "grounded": meta.get("grounded"),
            "conversation_id": row["conversation_id"], "error": None,
            "input_tokens": None, "output_tokens": None, "cost": None, "latency_ms": None,
            "started_at": row["created_at"]}
