"""Data access for users, memberships, sessions and API keys (migration M005)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from zhiku.accounts import secrets as sec
from zhiku.accounts.errors import BadCredentials, ChooseWorkspace
from zhiku.accounts.invitations import Invitation, Invitations
from zhiku.accounts.passwords import check_password
from zhiku.accounts.principal import ACCESS_LEVEL, ROLE_LEVEL, Principal
from zhiku.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from zhiku.store.db import Database, Row


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class ApiKey:
    """A stored key (never its secret)."""

    id: int
    workspace_id: int
    prefix: str
    name: str
    access: str
    kbs: list[str] | None
    assistants: list[str] | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    created_by: int | None = None


@dataclass(slots=True)
class Member:
    """A user with their role in one workspace."""

    id: int
    email: str
    name: str
    role: str
    created_at: str


def _key(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        workspace_id=row["workspace_id"],
        prefix=row["prefix"],
        name=row["name"],
        access=row["access"],
        kbs=None if row["kbs"] is None else json.loads(row["kbs"]),
        assistants=None if row["assistants"] is None else json.loads(row["assistants"]),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
        created_by=row["created_by"],
    )


class AuthRepo:
    """Users, memberships, sessions and keys in the shared database.

    E-mail addresses are compared without regard to case (``lower(email)``, unique on both
    backends).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.invitations = Invitations(db)

    # -- workspaces -----------------------------------------------------------------------
    def workspace_name(self, workspace_id: int) -> str:
        """The name of a workspace, or ``NotFound``."""
        row = self.db.conn.execute(
            "SELECT name FROM workspaces WHERE id = ?", (workspace_id,)
        ).fetchone()
        if row is None:
            raise NotFound("workspace does not exist")
        return str(row[0])

    def create_workspace(self, name: str) -> int:
        """A new workspace; ``Conflict`` when the name is taken."""
        if not name.strip() or len(name) > 128:
            raise InvalidInput("a workspace name is 1-128 characters")
        try:
            with self.db.write() as conn:
                row = conn.execute(
                    "INSERT INTO workspaces (name) VALUES (?) RETURNING id", (name,)
                ).fetchone()
                return int(row[0])
        except self.db.IntegrityError as exc:
            raise Conflict("that workspace name is taken") from exc

    def workspace_id(self, name: str) -> int | None:
        """The id of workspace ``name``, if it exists."""
        row = self.db.conn.execute("SELECT id FROM workspaces WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def user_workspaces(self, user_id: int) -> list[dict[str, Any]]:
        """The workspaces a user belongs to, with the role in each."""
        rows = self.db.conn.execute(
            "SELECT w.id, w.name, m.role, w.created_at FROM memberships m JOIN workspaces w "
            "ON w.id = m.workspace_id WHERE m.user_id = ? ORDER BY w.id",
            (user_id,),
        )
        return [dict(r) for r in rows]

    # -- users ----------------------------------------------------------------------------
    def create_user(self, email: str, password: str, name: str = "") -> int:
        """A new user; ``InvalidInput`` for a weak password, ``Conflict`` when the e-mail is
        taken."""
        if not 3 <= len(email) <= 320 or "@" not in email:
            raise InvalidInput("an e-mail address looks like name@example.org")
        check_password(password, email)
        try:
            with self.db.write() as conn:
                row = conn.execute(
                    "INSERT INTO users (email, name, password_hash) VALUES (?, ?, ?) RETURNING id",
                    (email, name, sec.hash_password(password)),
                ).fetchone()
                return int(row[0])
        except self.db.IntegrityError as exc:
            raise Conflict("a user with that e-mail already exists") from exc

    def user_id(self, email: str) -> int | None:
        """The id of the user with this e-mail."""
        row = self.db.conn.execute(
            "SELECT id FROM users WHERE lower(email) = lower(?)", (email,)
        ).fetchone()
        return None if row is None else int(row[0])

    def user_email(self, user_id: int) -> str:
        """The e-mail of a user, or ``NotFound``."""
        row = self.db.conn.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            raise NotFound(f"user {user_id} does not exist")
        return str(row[0])

    def role_of(self, workspace_id: int, user_id: int | None) -> str | None:
        """The user's role in the workspace, if they are a member."""
        if user_id is None:
            return None
        row = self.db.conn.execute(
            "SELECT role FROM memberships WHERE workspace_id = ? AND user_id = ?",
            (workspace_id, user_id),
        ).fetchone()
        return None if row is None else str(row[0])

    def set_role(self, user_id: int, workspace_id: int, role: str) -> None:
        """Add a user to a workspace with ``role``, or change their role."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO memberships (user_id, workspace_id, role) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id, workspace_id) DO UPDATE SET role = excluded.role",
                (user_id, workspace_id, role),
            )

    def member(self, workspace_id: int, user_id: int) -> Member:
        """One member of the workspace, or ``NotFound`` (users of other workspaces included)."""
        row = self.db.conn.execute(
            "SELECT u.id, u.email, u.name, m.role, u.created_at FROM memberships m JOIN users u "
            "ON u.id = m.user_id WHERE m.workspace_id = ? AND u.id = ?",
            (workspace_id, user_id),
        ).fetchone()
        if row is None:
            raise NotFound(f"user {user_id} does not exist")
        return Member(**dict(row))

    def members(self, workspace_id: int) -> list[Member]:
        """Every member of the workspace."""
        rows = self.db.conn.execute(
            "SELECT u.id, u.email, u.name, m.role, u.created_at FROM memberships m JOIN users u "
            "ON u.id = m.user_id WHERE m.workspace_id = ? ORDER BY u.id",
            (workspace_id,),
        )
        return [Member(**dict(r)) for r in rows]

    def remove_member(self, workspace_id: int, user_id: int) -> None:
        """Take a user out of the workspace, end their sessions there and revoke the API keys
        they made there (a departing member keeps no way in)."""
        with self.db.write() as conn:
            conn.execute(
                "DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?",
                (workspace_id, user_id),
            )
            conn.execute(
                "DELETE FROM sessions WHERE workspace_id = ? AND user_id = ?",
                (workspace_id, user_id),
            )
            conn.execute(
                f"UPDATE api_keys SET revoked_at = {self.db.now} "
                "WHERE workspace_id = ? AND created_by = ? AND revoked_at IS NULL",
                (workspace_id, user_id),
            )

    def owners(self, workspace_id: int) -> int:
        """How many owners the workspace has."""
        return int(
            self.db.conn.execute(
                "SELECT count(*) FROM memberships WHERE workspace_id = ? AND role = 'owner'",
                (workspace_id,),
            ).fetchone()[0]
        )

    # -- sessions -------------------------------------------------------------------------
    def login(self, email: str, password: str, workspace: str | None, hours: float) -> str:
        """A session token for the user in ``workspace``.

        Without a workspace name, a user of one workspace gets that one; a user of several gets
        ``ChooseWorkspace`` with their workspace names (only once the password is right).
        """
        user_id = self.verify(email, password)
        spaces = self.user_workspaces(user_id)
        if workspace is None and len(spaces) > 1:
            raise ChooseWorkspace(
                "choose a workspace", workspaces=[str(w["name"]) for w in spaces]
            )
        chosen = [w for w in spaces if workspace is None or w["name"] == workspace]
        if not chosen:
            raise Forbidden(
                "the user is not a member of that workspace" if spaces else
                "this account belongs to no workspace; join one with an invitation"
            )
        return self.new_session(user_id, int(chosen[0]["id"]), hours)

    def verify(self, email: str, password: str) -> int:
        """The user's id when the password is right, else ``BadCredentials``.

        An unknown e-mail costs the same one verify (against a fixed hash) as a known one, so the
        time taken does not tell whether the account exists.
        """
        row = self.db.conn.execute(
            "SELECT id, password_hash FROM users WHERE lower(email) = lower(?)", (email,)
        ).fetchone()
        stored = sec.dummy_hash() if row is None else str(row["password_hash"])
        if not sec.verify_password(stored, password) or row is None:
            raise BadCredentials("wrong e-mail or password")
        return int(row["id"])

    def new_session(self, user_id: int, workspace_id: int, hours: float) -> str:
        """A session token for the user in the workspace."""
        token = sec.new_session_token()
        expires = _iso(datetime.now(UTC) + timedelta(hours=hours))
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, workspace_id, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (sec.sha256(token), user_id, workspace_id, expires),
            )
        return token

    def join(self, invitation: Invitation, password: str, name: str, hours: float) -> str:
        """Use an invitation's token: create the account for its e-mail (or, when one exists,
        check its password), accept the invitation, and open a session in that workspace."""
        user_id = self.user_id(invitation.email)
        if user_id is None:
            user_id = self.create_user(invitation.email, password, name)
        else:
            user_id = self.verify(invitation.email, password)
        self.invitations.accept(invitation, user_id)
        return self.new_session(user_id, invitation.workspace_id, hours)

    def logout(self, token: str) -> None:
        """End a session."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (sec.sha256(token),))

    # -- keys -----------------------------------------------------------------------------
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
        return _key(row)

    def list_keys(self, workspace_id: int) -> list[ApiKey]:
        """Every key of the workspace, revoked ones included."""
        rows = self.db.conn.execute(
            "SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY id", (workspace_id,)
        )
        return [_key(r) for r in rows]

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

    # -- authentication -------------------------------------------------------------------
    def authenticate(self, token: str) -> Principal:
        """The principal behind a bearer token, or ``Unauthorized``."""
        if token.startswith(sec.SESSION_PREFIX + "_"):
            return self._session(token)
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
        key = _key(row)
        return Principal(
            workspace_id=key.workspace_id,
            level=ACCESS_LEVEL[key.access],
            key_id=key.id,
            kbs=None if key.kbs is None else frozenset(key.kbs),
            assistants=None if key.assistants is None else frozenset(key.assistants),
        )

    def _session(self, token: str) -> Principal:
        row = self.db.conn.execute(
            "SELECT s.user_id, s.workspace_id, s.expires_at, m.role FROM sessions s "
            "JOIN memberships m ON m.user_id = s.user_id AND m.workspace_id = s.workspace_id "
            "WHERE s.token_hash = ?",
            (sec.sha256(token),),
        ).fetchone()
        if row is None or row["expires_at"] < _iso(datetime.now(UTC)):
            raise Unauthorized("invalid or expired session")
        return Principal(
            workspace_id=row["workspace_id"], level=ROLE_LEVEL[row["role"]], user_id=row["user_id"]
        )
