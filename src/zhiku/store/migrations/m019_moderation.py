"""Migration 19: a workspace's moderation policy, and the append-only log of its hits."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE moderation_policies (
    workspace_id {BIGINT} PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    policy TEXT NOT NULL,              -- ModerationPolicy JSON
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW}
);

CREATE TABLE moderation_hits (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    at {TEXT_C} NOT NULL DEFAULT {NOW},
    direction TEXT NOT NULL CHECK (direction IN ('input', 'output')),
    app TEXT,                          -- the assistant's slug
    channel TEXT,                      -- the face: chat, openai, share, ...
    action TEXT NOT NULL CHECK (action IN ('block', 'mask', 'allow')),
    source TEXT NOT NULL,              -- 'words', or 'endpoint'
    words TEXT NOT NULL,               -- JSON list of the listed words found (or categories)
    excerpt TEXT NOT NULL              -- the checked text around the first hit, masked
);
CREATE INDEX moderation_hits_by_time ON moderation_hits (workspace_id, id);
"""

MIGRATION = Migration(19, "moderation", common=COMMON)
