"""Migration 11: the ``jobs`` table holds queue jobs only, named by their handler's kind.

Rows the ingestion pipeline wrote as records of its runs (read by nothing, never reaped) are
deleted; queue jobs named ``api_<kind>`` are renamed ``<kind>``. Eval runs execute as ``eval``
jobs, and a run still ``running`` here has no job that could finish it: it is marked failed.
A job names its workspace (``workspace_id``), so jobs without a knowledge base (an eval run of
an assistant) are listed with their workspace's.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = r"""
DELETE FROM jobs WHERE kind NOT LIKE 'api\_%' ESCAPE '\';
UPDATE jobs SET kind = substr(kind, 5) WHERE kind LIKE 'api\_%' ESCAPE '\';
UPDATE eval_runs SET status = 'failed', error = 'the server stopped before the run finished'
    WHERE status = 'running';
ALTER TABLE jobs ADD COLUMN workspace_id {BIGINT} REFERENCES workspaces(id) ON DELETE CASCADE;
UPDATE jobs SET workspace_id =
    (SELECT k.workspace_id FROM knowledge_bases k WHERE k.id = jobs.kb_id);
CREATE INDEX jobs_workspace ON jobs (workspace_id, id);
"""

MIGRATION = Migration(11, "queue_kinds", common=COMMON)
