"""Migration 14: the runs of stored agents (the message, the answer with its citations, why it
stopped, tool calls, tokens, cost and latency), for an app's run history and usage."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE agent_runs (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    agent_id {BIGINT} NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    version INTEGER,                   -- the published version run; NULL: the draft
    message TEXT NOT NULL,
    answer TEXT NOT NULL DEFAULT '',
    stop_reason TEXT NOT NULL,
    steps INTEGER NOT NULL DEFAULT 0,
    citations TEXT NOT NULL DEFAULT '[]',
    tool_calls TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    latency_ms {REAL} NOT NULL DEFAULT 0,
    input_tokens {BIGINT} NOT NULL DEFAULT 0,
    output_tokens {BIGINT} NOT NULL DEFAULT 0,
    cost {REAL} NOT NULL DEFAULT 0,
    started_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX agent_runs_agent ON agent_runs (agent_id, id);
"""

MIGRATION = Migration(14, "agent_runs", common=COMMON)
