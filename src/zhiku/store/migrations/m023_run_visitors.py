"""Migration 23: who ran an app through a share link. A signed identity's display name on a
conversation, and on workflow and agent runs the channel, link, visitor session and external
user (with name) that conversations already record."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

_RUN_COLUMNS = """
ALTER TABLE {table} ADD COLUMN channel TEXT;
ALTER TABLE {table} ADD COLUMN share_link_id {{BIGINT}}
    REFERENCES share_links(id) ON DELETE SET NULL;
ALTER TABLE {table} ADD COLUMN visitor {{TEXT_C}};
ALTER TABLE {table} ADD COLUMN external_user TEXT;
ALTER TABLE {table} ADD COLUMN external_name TEXT;
"""

COMMON = "ALTER TABLE conversations ADD COLUMN external_name TEXT;\n" + "".join(
    _RUN_COLUMNS.format(table=t) for t in ("workflow_runs", "agent_runs"))

MIGRATION = Migration(23, "run_visitors", common=COMMON)
