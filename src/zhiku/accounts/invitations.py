"""Invitations to a workspace (migration M009): pending until the invitee accepts or declines,
an admin revokes, or they expire.

An invitation names an e-mail, never a user: inviting does not look up whether an account
exists, so the inviter learns nothing about other tenants' users. The invitee, signed in,
sees the invitations addressed to their e-mail; a person without an account uses the one-time
token to create it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from zhiku.accounts import secrets as sec
from zhiku.accounts.records import iso
from zhiku.core.errors import NotFound
from zhiku.store.db import Database, Row

_COLUMNS = (
    "i.id, i.workspace_id, w.name AS workspace, i.email, i.role, i.invited_by, "
    "u.email AS invited_by_email, i.created_at, i.expires_at"
)
_FROM = (
    "FROM invitations i JOIN workspaces w ON w.id = i.workspace_id "
    "LEFT JOIN users u ON u.id = i.invited_by"
)


@dataclass(slots=True)
class Invitation:
    """A pending invitation (never its token)."""

    id: int
    workspace_id: int
    workspace: str
    email: str
    role: str
    invited_by: int | None
    invited_by_email: str | None
    created_at: str
    expires_at: str


def _invitation(row: Row) -> Invitation:
    return Invitation(**dict(row))


class Invitations:
    """Pending invitations in the shared database; expired ones are never returned."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, workspace_id: int, email: str, role: str, invited_by: int | None, hours: float
    ) -> tuple[Invitation, str]:
        """A new invitation (replacing a pending one for the same e-mail) and its token."""
        token = sec.new_invitation_token()
        expires = iso(datetime.now(UTC) + timedelta(hours=hours))
        with self.db.write() as conn:
            conn.execute(
                "DELETE FROM invitations WHERE workspace_id = ? AND lower(email) = lower(?)",
                (workspace_id, email),
            )
            row = conn.execute(
                "INSERT INTO invitations (workspace_id, email, role, invited_by, token_hash, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (workspace_id, email, role, invited_by, sec.sha256(token), expires),
            ).fetchone()
        return self.get(workspace_id, int(row[0])), token

    def get(self, workspace_id: int, invitation_id: int) -> Invitation:
        """A pending invitation of this workspace, or ``NotFound``."""
        row = self.db.conn.execute(
            f"SELECT {_COLUMNS} {_FROM} WHERE i.id = ? AND i.workspace_id = ? "
            "AND i.expires_at > ?",
            (invitation_id, workspace_id, iso(datetime.now(UTC))),
        ).fetchone()
        if row is None:
            raise NotFound(f"invitation {invitation_id} does not exist")
        return _invitation(row)

    def for_workspace(self, workspace_id: int) -> list[Invitation]:
        """The workspace's pending invitations."""
        rows = self.db.conn.execute(
            f"SELECT {_COLUMNS} {_FROM} WHERE i.workspace_id = ? AND i.expires_at > ? "
            "ORDER BY i.id",
            (workspace_id, iso(datetime.now(UTC))),
        )
        return [_invitation(r) for r in rows]

    def for_email(self, email: str) -> list[Invitation]:
        """Pending invitations addressed to ``email``, in every workspace."""
        rows = self.db.conn.execute(
            f"SELECT {_COLUMNS} {_FROM} WHERE lower(i.email) = lower(?) AND i.expires_at > ? "
            "ORDER BY i.id",
            (email, iso(datetime.now(UTC))),
        )
        return [_invitation(r) for r in rows]

    def by_token(self, token: str) -> Invitation:
        """The pending invitation a token belongs to, or ``NotFound``."""
        row = self.db.conn.execute(
            f"SELECT {_COLUMNS} {_FROM} WHERE i.token_hash = ? AND i.expires_at > ?",
            (sec.sha256(token), iso(datetime.now(UTC))),
        ).fetchone()
        if row is None:
            raise NotFound("the invitation does not exist or has expired")
        return _invitation(row)

    def for_user(self, email: str, invitation_id: int) -> Invitation:
        """A pending invitation addressed to ``email``, or ``NotFound``."""
        for invitation in self.for_email(email):
            if invitation.id == invitation_id:
                return invitation
        raise NotFound(f"invitation {invitation_id} does not exist")

    def accept(self, invitation: Invitation, user_id: int) -> None:
        """Make the user a member with the invited role (a member keeps their role), once."""
        with self.db.write() as conn:
            gone = conn.execute(
                "DELETE FROM invitations WHERE id = ? RETURNING id", (invitation.id,)
            ).fetchone()
            if gone is None:
                raise NotFound(f"invitation {invitation.id} does not exist")
            conn.execute(
                "INSERT INTO memberships (user_id, workspace_id, role) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id, workspace_id) DO NOTHING",
                (user_id, invitation.workspace_id, invitation.role),
            )

    def delete(self, invitation_id: int) -> None:
        """Revoke or decline: the invitation and its token stop working."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM invitations WHERE id = ?", (invitation_id,))
