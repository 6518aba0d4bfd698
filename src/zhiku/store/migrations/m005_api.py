"""Migration 5: users, memberships, sessions, API keys, originals and the API call log.

E-mail addresses are unique without regard to case: SQLite declares the column ``COLLATE
NOCASE``, PostgreSQL has a unique index on ``lower(email)``; lookups compare ``lower(email) =
lower(?)`` on both (in the "C" collation ``lower`` folds ASCII letters only, like NOCASE).
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE users (
    id {ID},
    email {TEXT_C} NOT NULL{UNIQUE_NOCASE},
    name {TEXT_C} NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,           -- argon2id
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);

CREATE TABLE memberships (
    user_id {BIGINT} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    PRIMARY KEY (user_id, workspace_id)
);
CREATE INDEX memberships_workspace ON memberships (workspace_id);

-- A login session: the bearer token's sha256, bound to one user in one workspace.
CREATE TABLE sessions (
    token_hash {TEXT_C} PRIMARY KEY,
    user_id {BIGINT} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    expires_at {TEXT_C} NOT NULL,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
){WITHOUT_ROWID};

-- API keys: 'zk_<prefix>_<secret>'; the prefix finds the row, the sha256 of the key proves it.
CREATE TABLE api_keys (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    prefix {TEXT_C} NOT NULL UNIQUE,
    key_hash TEXT NOT NULL,
    name {TEXT_C} NOT NULL DEFAULT '',
    access TEXT NOT NULL CHECK (access IN ('read', 'read_write', 'admin')),
    kbs TEXT,                               -- JSON list of knowledge base names; NULL: all
    assistants TEXT,                        -- JSON list of assistant slugs; NULL: all
    created_by {BIGINT} REFERENCES users(id) ON DELETE SET NULL,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    last_used_at {TEXT_C},
    revoked_at {TEXT_C}
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

-- Original bytes of uploaded and fetched files, by content hash (documents.content_hash).
CREATE TABLE originals (
    sha256 {TEXT_C} PRIMARY KEY,
    size_bytes {BIGINT} NOT NULL,
    content_type TEXT NOT NULL DEFAULT 'application/octet-stream',
    data {BLOB} NOT NULL,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
){WITHOUT_ROWID};

-- One row per answered chat request: who asked (key, user) and the usage of that request, the
-- sum of its model calls (each also in model_calls, which holds the per-assistant/day figures).
CREATE TABLE api_calls (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key_id {BIGINT} REFERENCES api_keys(id) ON DELETE SET NULL,
    user_id {BIGINT} REFERENCES users(id) ON DELETE SET NULL,
    assistant TEXT,
    endpoint TEXT NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost {REAL} NOT NULL DEFAULT 0,
    latency_ms {REAL} NOT NULL DEFAULT 0,
    model_calls INTEGER NOT NULL DEFAULT 0,
    day {TEXT_C} NOT NULL DEFAULT {TODAY},
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX api_calls_workspace ON api_calls (workspace_id, day);
"""

POSTGRES = """
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_workspace ON sessions (workspace_id);
CREATE INDEX api_calls_key ON api_calls (key_id);
CREATE INDEX api_calls_user ON api_calls (user_id);
"""

MIGRATION = Migration(5, "api", common=COMMON, postgres=POSTGRES)
