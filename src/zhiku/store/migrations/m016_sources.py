"""Migration 16: sources that keep a knowledge base in step with where its documents live.

``sources`` holds each configured connector (settings in the clear, secrets encrypted, a cron
schedule and when it is next due); ``source_items`` what the last runs saw of each item (its
version, the document it became, its last error); ``sync_runs`` every run with its counts. A
partial unique index lets a source have one queued or running run at a time, on either backend.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE sources (
    id {ID},
    kb_id {BIGINT} NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    name {TEXT_C} NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,              -- the connector's settings JSON, without its secrets
    secrets_encrypted {BLOB},          -- Fernet token of a JSON object
    schedule TEXT,                     -- cron expression (UTC); NULL: synced by hand only
    next_run_at {TEXT_C},              -- when the schedule is next due
    max_delete_share {REAL},           -- NULL: the server's default
    enabled INTEGER NOT NULL DEFAULT 1,
    created_by TEXT,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (kb_id, name)
);
CREATE INDEX sources_due ON sources (next_run_at) WHERE schedule IS NOT NULL;

CREATE TABLE source_items (
    source_id {BIGINT} NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    item_id {TEXT_C} NOT NULL,
    version TEXT,
    document_id {BIGINT} REFERENCES documents(id) ON DELETE SET NULL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    synced_at {TEXT_C} NOT NULL DEFAULT {NOW},
    PRIMARY KEY (source_id, item_id)
);
CREATE INDEX source_items_document ON source_items (document_id);

CREATE TABLE sync_runs (
    id {ID},
    source_id {BIGINT} NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    job_id {BIGINT},
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'stopped', 'failed')),
    origin TEXT NOT NULL DEFAULT 'manual',   -- manual | schedule
    requested_by TEXT,
    allow_deletes INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    errors TEXT NOT NULL DEFAULT '[]',  -- [{"item": …, "error": …}], the first hundred
    error TEXT,                         -- why the run failed or stopped
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    started_at {TEXT_C},
    finished_at {TEXT_C}
);
CREATE INDEX sync_runs_source ON sync_runs (source_id, id);
CREATE UNIQUE INDEX sync_runs_one_active ON sync_runs (source_id)
    WHERE status IN ('queued', 'running');
"""

MIGRATION = Migration(16, "sources", common=COMMON)
