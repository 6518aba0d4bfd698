"""Migration 22: single sign-on: directory identities, pending OIDC sign-ins, and a workspace
switch for password sign-in.

``directory_identities`` links a user to an account of a directory (an OIDC issuer or an LDAP
server) by its stable subject, with the directory groups seen at the last sign-in.
``sso_states`` holds an OIDC sign-in between the redirect to the provider and its callback
(only the SHA-256 of the state is stored; rows expire after minutes). ``workspaces.
password_signin`` off refuses e-mail-and-password sign-in to that workspace.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE directory_identities (
    id {ID},
    user_id {BIGINT} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider {TEXT_C} NOT NULL,
    subject {TEXT_C} NOT NULL,
    groups_json TEXT NOT NULL DEFAULT '[]',
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    last_login {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (provider, subject)
);
CREATE INDEX directory_identities_user ON directory_identities (user_id);
CREATE TABLE sso_states (
    state_hash {TEXT_C} NOT NULL PRIMARY KEY,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    workspace TEXT,
    expires_at {TEXT_C} NOT NULL
);
ALTER TABLE workspaces ADD COLUMN password_signin INTEGER NOT NULL DEFAULT 1;
"""

MIGRATION = Migration(22, "sso", common=COMMON)
