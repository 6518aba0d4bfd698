"""Migration 21: document-level permissions.

``access_groups`` are a workspace's groups of readers, ``access_group_members`` their users and
API keys. A document or a source with ``restricted = 1`` is read only by the workspace's
administrators and the members of the groups listed for it in ``document_groups`` /
``source_groups`` (a restricted row whose groups were all deleted stays restricted: only
administrators read it). Documents a source syncs take the source's groups when written.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE access_groups (
    id {ID_AUTOINCREMENT},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name {TEXT_C} NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (workspace_id, name)
);

CREATE TABLE access_group_members (
    id {ID},
    group_id {BIGINT} NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
    user_id {BIGINT} REFERENCES users(id) ON DELETE CASCADE,
    key_id {BIGINT} REFERENCES api_keys(id) ON DELETE CASCADE,
    added_at {TEXT_C} NOT NULL DEFAULT {NOW},
    CHECK ((user_id IS NULL) <> (key_id IS NULL))
);
CREATE UNIQUE INDEX access_group_members_user ON access_group_members (group_id, user_id)
    WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX access_group_members_key ON access_group_members (group_id, key_id)
    WHERE key_id IS NOT NULL;
CREATE INDEX access_group_members_by_user ON access_group_members (user_id);
CREATE INDEX access_group_members_by_key ON access_group_members (key_id);

CREATE TABLE document_groups (
    document_id {BIGINT} NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    group_id {BIGINT} NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
    PRIMARY KEY (document_id, group_id)
);
CREATE INDEX document_groups_by_group ON document_groups (group_id);

CREATE TABLE source_groups (
    source_id {BIGINT} NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    group_id {BIGINT} NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
    PRIMARY KEY (source_id, group_id)
);
CREATE INDEX source_groups_by_group ON source_groups (group_id);

ALTER TABLE documents ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
CREATE INDEX documents_restricted ON documents (kb_id) WHERE restricted = 1;
"""

MIGRATION = Migration(21, "permissions", common=COMMON)
