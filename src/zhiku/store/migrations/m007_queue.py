"""Migration 7: the ``jobs`` table becomes a work queue shared by any number of workers.

New columns: ``max_attempts`` (then the job is ``dead``), ``run_after`` (back-off before a
retry), ``locked_by``/``locked_until`` (the lease a worker holds and renews with a heartbeat;
once it runs out the job goes to another worker) and ``heartbeat_at``. SQLite cannot change a
CHECK constraint in place, so its table is rebuilt (nothing references it); PostgreSQL replaces
the constraint and adds the columns. Workers claim with ``FOR UPDATE SKIP LOCKED`` there.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

SQLITE_FIRST = """
CREATE TABLE jobs_m007 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    kb_id INTEGER REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
    progress REAL NOT NULL DEFAULT 0,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    run_after TEXT NOT NULL DEFAULT {NOW},
    locked_by TEXT,
    locked_until TEXT,
    heartbeat_at TEXT,
    created_at TEXT NOT NULL DEFAULT {NOW},
    updated_at TEXT NOT NULL DEFAULT {NOW}
);
INSERT INTO jobs_m007 (id, kind, kb_id, payload, status, progress, error, attempts, run_after,
                       created_at, updated_at)
    SELECT id, kind, kb_id, payload, status, progress, error, attempts, created_at,
           created_at, updated_at
    FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_m007 RENAME TO jobs;
CREATE INDEX jobs_status ON jobs (status, id);
"""

POSTGRES_FIRST = """
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
    ADD COLUMN run_after TEXT COLLATE "C" NOT NULL DEFAULT {NOW},
    ADD COLUMN locked_by TEXT,
    ADD COLUMN locked_until TEXT COLLATE "C",
    ADD COLUMN heartbeat_at TEXT COLLATE "C";
"""

COMMON = """
CREATE INDEX IF NOT EXISTS jobs_kb ON jobs (kb_id, id);
-- Claiming takes the queued job due first; reaping scans the running jobs' leases.
CREATE INDEX jobs_due ON jobs (run_after, id) WHERE status = 'queued';
CREATE INDEX jobs_lease ON jobs (locked_until) WHERE status = 'running';
"""

MIGRATION = Migration(
    7, "queue", common=COMMON, sqlite_first=SQLITE_FIRST, postgres_first=POSTGRES_FIRST
)
