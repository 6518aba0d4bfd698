"""Migration 18: share links (a public chat page and widget per app) and their counters.

A link names its app by kind and slug, with the app's id so that an app deleted and made
again under the same slug does not inherit the old links. Only the SHA-256 of the link's token
is stored; the visitor-token key and the identity-signing secret are stored encrypted (they
must be read back to sign and verify). ``share_counters`` counts requests per link in fixed
windows (per minute and address, per day), in the database so limits hold across processes.
Conversations record the channel they came through, the link and the visitor session.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE share_links (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    app_kind TEXT NOT NULL CHECK (app_kind IN ('assistant', 'workflow', 'agent')),
    app_id {BIGINT} NOT NULL,
    app_slug {TEXT_C} NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    token_hash {TEXT_C} NOT NULL UNIQUE,
    token_hint TEXT NOT NULL DEFAULT '',
    visitor_key {BLOB} NOT NULL,
    signing_secret {BLOB} NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT,
    expires_at {TEXT_C},
    rate_per_minute INTEGER NOT NULL DEFAULT 20,
    daily_quota INTEGER NOT NULL DEFAULT 1000,
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    created_by {BIGINT} REFERENCES users(id) ON DELETE SET NULL,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX share_links_app ON share_links (workspace_id, app_kind, app_slug);
CREATE TABLE share_counters (
    link_id {BIGINT} NOT NULL REFERENCES share_links(id) ON DELETE CASCADE,
    window_start {TEXT_C} NOT NULL,
    subject {TEXT_C} NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, window_start, subject)
);
ALTER TABLE conversations ADD COLUMN channel TEXT;
ALTER TABLE conversations ADD COLUMN share_link_id {BIGINT}
    REFERENCES share_links(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN visitor {TEXT_C};
ALTER TABLE conversations ADD COLUMN external_user TEXT;
CREATE INDEX conversations_share_link ON conversations (share_link_id);
"""

MIGRATION = Migration(18, "share_links", common=COMMON)
