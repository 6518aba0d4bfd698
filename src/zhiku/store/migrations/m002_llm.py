"""Migration 2: model providers, assistants and their versions, conversations, model calls."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE providers (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name {TEXT_C} NOT NULL,
    config TEXT NOT NULL,              -- ProviderConfig JSON, never the key
    api_key_encrypted {BLOB},            -- Fernet token, key file in ZHIKU_HOME (0600)
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (workspace_id, name)
);

CREATE TABLE assistants (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug {TEXT_C} NOT NULL,
    name {TEXT_C} NOT NULL,
    draft TEXT NOT NULL,               -- AssistantConfig JSON being edited
    published_version INTEGER,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (workspace_id, slug)
);

CREATE TABLE assistant_versions (
    id {ID},
    assistant_id {BIGINT} NOT NULL REFERENCES assistants(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    config TEXT NOT NULL,              -- frozen AssistantConfig JSON
    note TEXT,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (assistant_id, version)
);

CREATE TABLE conversations (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    assistant_id {BIGINT} REFERENCES assistants(id) ON DELETE SET NULL,
    title TEXT,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX conversations_assistant ON conversations (assistant_id, updated_at);

CREATE TABLE messages (
    id {ID},
    conversation_id {BIGINT} NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    reasoning TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}', -- standalone query, refused, flags, assistant version
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- Counters stay INTEGER so that PostgreSQL's sum() comes back as an integer, not a numeric.
CREATE TABLE model_calls (
    id {ID},
    workspace_id {BIGINT} REFERENCES workspaces(id) ON DELETE CASCADE,
    assistant_id {BIGINT} REFERENCES assistants(id) ON DELETE SET NULL,
    conversation_id {BIGINT} REFERENCES conversations(id) ON DELETE SET NULL,
    purpose TEXT NOT NULL,             -- answer, rewrite, test
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    tokens_estimated INTEGER NOT NULL DEFAULT 0,
    latency_ms {REAL} NOT NULL,
    ttft_ms {REAL},
    cost {REAL} NOT NULL DEFAULT 0,
    stream INTEGER NOT NULL DEFAULT 0,
    ok INTEGER NOT NULL,
    error TEXT,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX model_calls_workspace ON model_calls (workspace_id, created_at);
CREATE INDEX model_calls_conversation ON model_calls (conversation_id);
"""

POSTGRES = """
CREATE INDEX conversations_workspace ON conversations (workspace_id, updated_at);
CREATE INDEX model_calls_assistant ON model_calls (assistant_id);
"""

MIGRATION = Migration(2, "llm", common=COMMON, postgres=POSTGRES)
