"""PostgreSQL migration 7: the ``jobs`` table becomes a work queue (see
`store/sqlite/schema_m007_queue.py`). Workers claim with ``FOR UPDATE SKIP LOCKED``.

Times are ISO-8601 text in UTC like every other timestamp of the schema, compared in the "C"
collation so that text order is time order whatever the database's locale.
"""

from __future__ import annotations

_NOW = "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

M007_QUEUE = f"""
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'jobs'::regclass AND contype = 'c'
               AND pg_get_constraintdef(oid) LIKE '%status%'
    LOOP
        EXECUTE format('ALTER TABLE jobs DROP CONSTRAINT %I', c.conname);
    END LOOP;
END $$;
ALTER TABLE jobs
    ADD CONSTRAINT jobs_status_check
        CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
    ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 3,
    ADD COLUMN run_after TEXT COLLATE "C" NOT NULL DEFAULT ({_NOW}),
    ADD COLUMN locked_by TEXT,
    ADD COLUMN locked_until TEXT COLLATE "C",
    ADD COLUMN heartbeat_at TEXT COLLATE "C";
CREATE INDEX IF NOT EXISTS jobs_kb ON jobs (kb_id, id);
-- Claiming takes the queued job due first; reaping scans the running jobs' leases.
CREATE INDEX jobs_due ON jobs (run_after, id) WHERE status = 'queued';
CREATE INDEX jobs_lease ON jobs (locked_until) WHERE status = 'running';
"""
