"""Migration 20: provable releases for every kind of app — the eval-set bindings, scorecards and
release records are keyed by (app kind, app id) instead of an assistant id. Existing rows become
the assistants' (``app_kind = 'assistant'``); deleting an app of any kind deletes its rows
(triggers, as no single foreign key can point at three tables)."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
ALTER TABLE release_bindings RENAME TO release_bindings_old;
CREATE TABLE release_bindings (
    app_kind {TEXT_C} NOT NULL CHECK (app_kind IN ('assistant', 'workflow', 'agent')),
    app_id {BIGINT} NOT NULL,
    set_name {TEXT_C} NOT NULL,
    top_k INTEGER NOT NULL DEFAULT 10,
    metrics TEXT NOT NULL DEFAULT '[]',   -- primary metrics (JSON list; empty: the defaults)
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW},
    PRIMARY KEY (app_kind, app_id)
);
INSERT INTO release_bindings (app_kind, app_id, set_name, top_k, metrics, created_at,
                                  updated_at)
    SELECT 'assistant', assistant_id, set_name, top_k, metrics, created_at, updated_at
    FROM release_bindings_old;
DROP TABLE release_bindings_old;

ALTER TABLE release_scorecards RENAME TO release_scorecards_old;
CREATE TABLE release_scorecards (
    id {ID},
    app_kind {TEXT_C} NOT NULL CHECK (app_kind IN ('assistant', 'workflow', 'agent')),
    app_id {BIGINT} NOT NULL,
    run_id {BIGINT} NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    config_hash TEXT NOT NULL,            -- the app's configuration or definition that answered
    set_hash TEXT NOT NULL,               -- the set's questions and the run options
    corpus_hash TEXT NOT NULL,            -- its knowledge bases' contents and Zhiku's version
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
INSERT INTO release_scorecards (app_kind, app_id, run_id, config_hash, set_hash,
                                    corpus_hash, created_at)
    SELECT 'assistant', assistant_id, run_id, config_hash, set_hash, corpus_hash, created_at
    FROM release_scorecards_old ORDER BY id;
DROP TABLE release_scorecards_old;
CREATE INDEX release_scorecards_key
    ON release_scorecards (app_kind, app_id, config_hash, set_hash, corpus_hash);

ALTER TABLE release_records RENAME TO release_records_old;
CREATE TABLE release_records (
    id {ID},
    app_kind {TEXT_C} NOT NULL CHECK (app_kind IN ('assistant', 'workflow', 'agent')),
    app_id {BIGINT} NOT NULL,
    version INTEGER NOT NULL,
    set_name {TEXT_C} NOT NULL,
    scorecard_run_id {BIGINT} REFERENCES eval_runs(id) ON DELETE SET NULL,
    compared_run_id {BIGINT} REFERENCES eval_runs(id) ON DELETE SET NULL,
    regressions TEXT NOT NULL DEFAULT '[]',  -- primary metrics worse than live (JSON)
    forced_by TEXT,
    force_reason TEXT,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (app_kind, app_id, version)
);
INSERT INTO release_records (app_kind, app_id, version, set_name, scorecard_run_id,
                                 compared_run_id, regressions, forced_by, force_reason,
                                 created_at)
    SELECT 'assistant', assistant_id, version, set_name, scorecard_run_id, compared_run_id,
           regressions, forced_by, force_reason, created_at
    FROM release_records_old ORDER BY id;
DROP TABLE release_records_old;
"""

_SQLITE_FORGET = """
DROP TRIGGER IF EXISTS {table}_release_forget;
CREATE TRIGGER {table}_release_forget AFTER DELETE ON {table} BEGIN
    DELETE FROM release_bindings WHERE app_kind = '{kind}' AND app_id = old.id;
    DELETE FROM release_scorecards WHERE app_kind = '{kind}' AND app_id = old.id;
    DELETE FROM release_records WHERE app_kind = '{kind}' AND app_id = old.id;
END;
"""
_TABLES = (("assistants", "assistant"), ("workflows", "workflow"), ("agents", "agent"))

SQLITE = "".join(_SQLITE_FORGET.replace("{table}", t).replace("{kind}", k) for t, k in _TABLES)

POSTGRES = """
CREATE OR REPLACE FUNCTION zhiku_release_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM release_bindings WHERE app_kind = TG_ARGV[0] AND app_id = OLD.id;
    DELETE FROM release_scorecards WHERE app_kind = TG_ARGV[0] AND app_id = OLD.id;
    DELETE FROM release_records WHERE app_kind = TG_ARGV[0] AND app_id = OLD.id;
    RETURN NULL;
END $$;
""" + "".join(
    f"DROP TRIGGER IF EXISTS {t}_release_forget ON {t};\n"
    f"CREATE TRIGGER {t}_release_forget AFTER DELETE ON {t} FOR EACH ROW "
    f"EXECUTE FUNCTION zhiku_release_forget('{k}');\n" for t, k in _TABLES
)

MIGRATION = Migration(20, "app_releases", common=COMMON, sqlite=SQLITE, postgres=POSTGRES)
