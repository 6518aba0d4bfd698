"""Migration 11: the ``jobs`` table holds queue jobs only, named by their handler's kind.

Rows the ingestion pipeline wrote as records of its runs (read by nothing, never reaped) are
deleted; queue jobs named ``api_<kind>`` are renamed ``<kind>``.
"""

from __future__ import annotations

M011_QUEUE_KINDS = r"""
DELETE FROM jobs WHERE kind NOT LIKE 'api\_%' ESCAPE '\';
UPDATE jobs SET kind = substr(kind, 5) WHERE kind LIKE 'api\_%' ESCAPE '\';
"""
