"""Migration 10: invitations to a workspace, pending until accepted, declined, revoked or expired.

An invitation names an e-mail (not a user); the token's sha256 lets a person without an
account create one. Accepting, declining or revoking deletes the row. E-mails compare through
``lower(email)`` on both backends, as in ``users``.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE invitations (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email {TEXT_C} NOT NULL{NOCASE},
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
    invited_by {BIGINT} REFERENCES users(id) ON DELETE SET NULL,
    token_hash {TEXT_C} NOT NULL UNIQUE,
    expires_at {TEXT_C} NOT NULL,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE UNIQUE INDEX invitations_workspace_email ON invitations (workspace_id, lower(email));
CREATE INDEX invitations_email ON invitations (lower(email));
"""

MIGRATION = Migration(10, "invitations", common=COMMON)
