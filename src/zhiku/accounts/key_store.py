"""API keys in the shared database: created (the secret returned once), listed, revoked, and
turned back into the principal they stand for."""

from __future__ import annotations

import json

from zhiku.accounts import secrets as sec
from zhiku.accounts.principal import ACCESS_LEVEL, Principal
from zhiku.accounts.records import ApiKey, key_record
from zhiku.core.errors import NotFound, Unauthorized
from zhiku.store.db import Database


class KeySql:
    """The ``api_keys`` table over ``self.db``."""

    db: Database

    def create_key(
        self,
        workspace_id: int,
        *,
        name: str,
        access: str,
        kbs: list[str] | None,
        assistants: list[str] | None,
        created_by: int | None,
    ) -> tuple[ApiKey, str]:
        """A new key: the stored record and the secret, which is shown this once."""
        prefix, key = sec.new_api_key()
        with self.db.write() as conn:
            row = conn.execute(
                "INSERT INTO api_keys (workspace_id, prefix, key_hash, name, access, kbs, "
                "assistants, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    workspace_id,
                    prefix,
                    sec.sha256(key),
                    name,
                    access,
                    None if kbs is None else json.dumps(kbs, ensure_ascii=False),
                    None if assistants is None else json.dumps(assistants, ensure_ascii=False),
                    created_by,
                ),
            ).fetchone()
            key_id = int(row[0])
        return self.get_key(workspace_id, key_id), key

    def get_key(self, workspace_id: int, key_id: int) -> ApiKey:
        """A key of this workspace, or ``NotFound``."""
        row = self.db.conn.execute(
            "SELECT * FROM api_keys WHERE id = ? AND workspace_id = ?", (key_id, workspace_id)
        ).fetchone()
        if row is None:
            raise NotFound(f"key {key_id} does not exist")
        return key_record(row)

    def list_keys(self, workspace_id: int) -> list[ApiKey]:
        """Every key of the workspace, revoked ones included."""
        rows = self.db.conn.execute(
            "SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY id", (workspace_id,)
        )
        return [key_record(r) for r in rows]

    def revoke_key(self, workspace_id: int, key_id: int) -> ApiKey:
        """Revoke a key; it stops working at once."""
        with self.db.write() as conn:
            conn.execute(
                f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, {self.db.now}) "
                "WHERE id = ? AND workspace_id = ?",
                (key_id, workspace_id),
            )
        return self.get_key(workspace_id, key_id)

    def touch_key(self, key_id: int) -> None:
        """Record that a key was just used."""
        with self.db.write() as conn:
            conn.execute(
                f"UPDATE api_keys SET last_used_at = {self.db.now} WHERE id = ?", (key_id,)
            )

    def key_principal(self, token: str) -> Principal:
        """The principal behind an API key, or ``Unauthorized``."""
        prefix = sec.split_api_key(token)
        row = None
        if prefix is not None:
            row = self.db.conn.execute(
                "SELECT * FROM api_keys WHERE prefix = ?", (prefix,)
            ).fetchone()
        if row is None or not sec.same(row["key_hash"], sec.sha256(token)):
            raise Unauthorized("invalid API key")
        if row["revoked_at"] is not None:
            raise Unauthorized("this API key was revoked")
        key = key_record(row)
        return Principal(
            workspace_id=key.workspace_id,
            level=ACCESS_LEVEL[key.access],
            key_id=key.id,
            kbs=None if key.kbs is None else frozenset(key.kbs),
            assistants=None if key.assistants is None else frozenset(key.assistants),
        )
