"""Migration 9: who a conversation belongs to.

A conversation started over the HTTP API belongs to the signed-in user (``user_id``) or to the
API key (``key_id``) that started it; one started from the CLI or the Python API has neither.
Deleting the user or key leaves the conversation without an owner (then only admins see it),
so a later user or key that reuses the id never inherits it.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
ALTER TABLE conversations ADD COLUMN user_id {BIGINT} REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN key_id {BIGINT} REFERENCES api_keys(id) ON DELETE SET NULL;
CREATE INDEX conversations_user ON conversations (user_id);
CREATE INDEX conversations_key ON conversations (key_id);
"""

MIGRATION = Migration(9, "conversation_owner", common=COMMON)
