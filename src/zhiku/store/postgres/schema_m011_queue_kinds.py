"""Migration 11: the ``jobs`` table holds queue jobs only, named by their handler's kind.

Rows the ingestion pipeline wrote as records of its runs (read by nothing, never reaped) are
deleted; queue jobs named ``api_<kind>`` are renamed ``<kind>``. Eval runs execute as ``eval``
jobs, and a run still ``running`` here has no job that could finish it: it is marked failed.
"""

from __future__ import annotations

M011_QUEUE_KINDS = r"""
DELETE FROM jobs WHERE kind NOT LIKE 'api\_%' ESCAPE '\';
UPDATE jobs SET kind = substr(kind, 5) WHERE kind LIKE 'api\_%' ESCAPE '\';
UPDATE eval_runs SET status = 'failed', error = 'the server stopped before the run finished'
    WHERE status = 'running';
"""
