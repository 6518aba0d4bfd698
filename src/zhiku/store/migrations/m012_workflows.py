"""Migration 12: workflows, their published versions, and their runs with per-node records."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE workflows (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug {TEXT_C} NOT NULL,
    name {TEXT_C} NOT NULL,
    draft TEXT NOT NULL,               -- workflow definition JSON being edited
    published_version INTEGER,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (workspace_id, slug)
);

CREATE TABLE workflow_versions (
    id {ID},
    workflow_id {BIGINT} NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,          -- frozen definition JSON
    note TEXT,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (workflow_id, version)
);

CREATE TABLE workflow_runs (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    workflow_id {BIGINT} NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version INTEGER,                   -- the published version run; NULL: the draft
    definition TEXT NOT NULL,          -- the definition as run (a replay runs it again)
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'timeout',
                                           'cancelled')),
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    latency_ms {REAL},
    input_tokens {BIGINT} NOT NULL DEFAULT 0,
    output_tokens {BIGINT} NOT NULL DEFAULT 0,
    cost {REAL} NOT NULL DEFAULT 0,
    replay_of {BIGINT} REFERENCES workflow_runs(id) ON DELETE SET NULL,
    started_at {TEXT_C} NOT NULL DEFAULT {NOW},
    finished_at {TEXT_C}
);
CREATE INDEX workflow_runs_workflow ON workflow_runs (workflow_id, id);

CREATE TABLE workflow_run_nodes (
    id {ID},
    run_id {BIGINT} NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,              -- the order nodes finished in
    node_id {TEXT_C} NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed', 'skipped')),
    inputs TEXT NOT NULL DEFAULT '{}',
    outputs TEXT NOT NULL DEFAULT '{}',
    latency_ms {REAL} NOT NULL DEFAULT 0,
    input_tokens {BIGINT} NOT NULL DEFAULT 0,
    output_tokens {BIGINT} NOT NULL DEFAULT 0,
    cost {REAL} NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX workflow_run_nodes_run ON workflow_run_nodes (run_id, seq);
"""

MIGRATION = Migration(12, "workflows", common=COMMON)
