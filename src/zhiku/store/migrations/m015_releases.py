"""Migration 15: provable releases — an assistant's eval set, the scorecards (eval runs of a
configuration on a set over a corpus state, kept for reuse) and what each publish recorded."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE release_bindings (
    assistant_id {BIGINT} PRIMARY KEY REFERENCES assistants(id) ON DELETE CASCADE,
    set_name {TEXT_C} NOT NULL,
    top_k INTEGER NOT NULL DEFAULT 10,
    metrics TEXT NOT NULL DEFAULT '[]',   -- primary metrics (JSON list; empty: the defaults)
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW}
);

CREATE TABLE release_scorecards (
    id {ID},
    assistant_id {BIGINT} NOT NULL REFERENCES assistants(id) ON DELETE CASCADE,
    run_id {BIGINT} NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    config_hash TEXT NOT NULL,            -- the AssistantConfig that answered
    set_hash TEXT NOT NULL,               -- the set's questions and the run options
    corpus_hash TEXT NOT NULL,            -- its knowledge bases' contents and Zhiku's version
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX release_scorecards_key
    ON release_scorecards (assistant_id, config_hash, set_hash, corpus_hash);

CREATE TABLE release_records (
    id {ID},
    assistant_id {BIGINT} NOT NULL REFERENCES assistants(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    set_name {TEXT_C} NOT NULL,
    scorecard_run_id {BIGINT} REFERENCES eval_runs(id) ON DELETE SET NULL,
    compared_run_id {BIGINT} REFERENCES eval_runs(id) ON DELETE SET NULL,
    regressions TEXT NOT NULL DEFAULT '[]',  -- primary metrics worse than live (JSON)
    forced_by TEXT,
    force_reason TEXT,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (assistant_id, version)
);
"""

MIGRATION = Migration(15, "releases", common=COMMON)
