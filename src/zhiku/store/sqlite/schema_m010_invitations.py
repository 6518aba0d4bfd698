"""Migration 9: invitations to a workspace, pending until accepted, declined, revoked or expired."""

from __future__ import annotations

M010_INVITATIONS = """
-- An invitation names an e-mail (not a user); the token's sha256 lets a person without an
-- account create one. Accepting, declining or revoking deletes the row.
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT NOT NULL COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
    invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX invitations_workspace_email ON invitations (workspace_id, lower(email));
CREATE INDEX invitations_email ON invitations (lower(email));
"""
