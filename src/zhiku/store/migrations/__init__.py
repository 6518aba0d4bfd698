"""The schema's numbered migrations: one list for both backends.

Each ``mNNN_<name>.py`` holds the DDL both backends share, written once with dialect terms
(``{ID}``, ``{TEXT_C}``, ``{NOW}``, …; see ``migration.py``), plus what only one backend has:
SQLite's FTS5 tables, row triggers and table rebuilds; PostgreSQL's pgvector, tsvector columns,
plpgsql statement triggers and extra indexes. A part may be empty for one backend, and the
numbers never change, so a database records how far it got in one integer on either backend.
The runners (``store/sqlite/migrations.py``, ``store/postgres/migrations.py``) apply
``scripts(dialect)`` in order; ``tests/store/test_schema_parity.py`` checks that both schemas
agree table by table.
"""

from __future__ import annotations

from zhiku.store.migrations import (
    m001_core,
    m002_llm,
    m003_evals,
    m004_graph,
    m005_api,
    m006_keyword,
    m007_queue,
    m008_term_stats,
    m009_conversation_owner,
    m010_invitations,
    m011_queue_kinds,
    m012_workflows,
    m013_agents,
    m014_agent_runs,
    m015_releases,
    m016_sources,
    m017_audit,
    m018_share_links,
    m019_moderation,
    m020_app_releases,
    m021_permissions,
    m022_sso,
    m023_run_visitors,
    m024_postings,
)
from zhiku.store.migrations.migration import Dialect, Migration

MIGRATIONS: tuple[Migration, ...] = (
    m001_core.MIGRATION,
    m002_llm.MIGRATION,
    m003_evals.MIGRATION,
    m004_graph.MIGRATION,
    m005_api.MIGRATION,
    m006_keyword.MIGRATION,
    m007_queue.MIGRATION,
    m008_term_stats.MIGRATION,
    m009_conversation_owner.MIGRATION,
    m010_invitations.MIGRATION,
    m011_queue_kinds.MIGRATION,
    m012_workflows.MIGRATION,
    m013_agents.MIGRATION,
    m014_agent_runs.MIGRATION,
    m015_releases.MIGRATION,
    m016_sources.MIGRATION,
    m017_audit.MIGRATION,
    m018_share_links.MIGRATION,
    m019_moderation.MIGRATION,
    m020_app_releases.MIGRATION,
    m021_permissions.MIGRATION,
    m022_sso.MIGRATION,
    m023_run_visitors.MIGRATION,
    m024_postings.MIGRATION,
)


def scripts(dialect: Dialect) -> list[str]:
    """Every migration as one SQL script for ``dialect``, migration 1 first."""
    return [m.script(dialect) for m in MIGRATIONS]


__all__ = ["MIGRATIONS", "Dialect", "Migration", "scripts"]
