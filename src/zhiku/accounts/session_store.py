"""Sign-in sessions in the shared database: opened, ended, and turned back into the member
they stand for while they last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zhiku.accounts import secrets as sec
from zhiku.accounts.principal import ROLE_LEVEL, Principal
from zhiku.accounts.records import iso
from zhiku.core.errors import Unauthorized
from zhiku.store.db import Database


class SessionSql:
    """The ``sessions`` table over ``self.db``."""

    db: Database

    def new_session(self, user_id: int, workspace_id: int, hours: float) -> str:
        """A session token for the user in the workspace."""
        token = sec.new_session_token()
        expires = iso(datetime.now(UTC) + timedelta(hours=hours))
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, workspace_id, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (sec.sha256(token), user_id, workspace_id, expires),
            )
        return token

    def logout(self, token: str) -> None:
        """End a session."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (sec.sha256(token),))

    def session_principal(self, token: str) -> Principal:
        """The member behind a session token while it lasts (and they are still a member),
        or ``Unauthorized``."""
        row = self.db.conn.execute(
            "SELECT s.user_id, s.workspace_id, s.expires_at, m.role FROM sessions s "
            "JOIN memberships m ON m.user_id = s.user_id AND m.workspace_id = s.workspace_id "
            "WHERE s.token_hash = ?",
            (sec.sha256(token),),
        ).fetchone()
        if row is None or row["expires_at"] < iso(datetime.now(UTC)):
            raise Unauthorized("invalid or expired session")
        return Principal(
            workspace_id=row["workspace_id"], level=ROLE_LEVEL[row["role"]], user_id=row["user_id"]
        )
