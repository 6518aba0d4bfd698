"""Migration 13: agents with their published versions, and the tool sources (MCP servers,
OpenAPI specs) of a workspace, their secrets encrypted."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE agents (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug {TEXT_C} NOT NULL,
    name {TEXT_C} NOT NULL,
    draft TEXT NOT NULL,               -- AgentConfig JSON being edited
    published_version INTEGER,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (workspace_id, slug)
);

CREATE TABLE agent_versions (
    id {ID},
    agent_id {BIGINT} NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    config TEXT NOT NULL,              -- frozen AgentConfig JSON
    note TEXT,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (agent_id, version)
);

CREATE TABLE tool_sources (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name {TEXT_C} NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('mcp', 'openapi')),
    config TEXT NOT NULL,              -- the source's settings JSON, without its secrets
    secrets_encrypted {BLOB},          -- Fernet token of a JSON object (headers, env values)
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (workspace_id, name)
);
"""

MIGRATION = Migration(13, "agents", common=COMMON)
