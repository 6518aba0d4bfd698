"""Migration 17: the audit log, an append-only record of who changed what, from where, with
which result. Triggers on both backends refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL),
so not even SQL run by the server changes a recorded entry. Entries keep no foreign key: they
outlive the workspaces, users and keys they name."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE audit_log (
    id {ID_AUTOINCREMENT},
    at {TEXT_C} NOT NULL DEFAULT {NOW},  -- UTC, ISO-8601
    workspace_id {BIGINT},               -- NULL: none (an unknown e-mail's failed sign-in)
    actor_kind TEXT NOT NULL,            -- user | key | cli | system | anonymous
    actor_id TEXT,
    actor_name TEXT NOT NULL DEFAULT '',
    action {TEXT_C} NOT NULL,            -- e.g. kb.delete, key.create, auth.login
    target_kind TEXT,
    target_id TEXT,
    target_name TEXT,
    address TEXT,                        -- the client's address, when over HTTP
    result TEXT NOT NULL CHECK (result IN ('success', 'failure')),
    detail TEXT NOT NULL DEFAULT '{}'    -- JSON object, secrets removed
);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id);
CREATE INDEX audit_log_workspace_at ON audit_log (workspace_id, at);
"""

SQLITE = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

POSTGRES = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""

MIGRATION = Migration(17, "audit", common=COMMON, sqlite=SQLITE, postgres=POSTGRES)
