"""PostgreSQL migration 9: who a conversation belongs to. The same columns as
`store/sqlite/schema_m009_conversation_owner.py`: the signed-in user (``user_id``) or the API
key (``key_id``) that started it over the HTTP API, neither for the CLI and the Python API.
Deleting the user or key leaves the conversation without an owner (then only admins see it).
"""

from __future__ import annotations

M009_CONVERSATION_OWNER = """
ALTER TABLE conversations
    ADD COLUMN user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    ADD COLUMN key_id BIGINT REFERENCES api_keys(id) ON DELETE SET NULL;
CREATE INDEX conversations_user ON conversations (user_id);
CREATE INDEX conversations_key ON conversations (key_id);
"""
