"""The account store: workspaces, users and memberships, sign-in, and (through its parts)
sessions, API keys and invitations, in the shared database (migration M005)."""

from __future__ import annotations

from zhiku.accounts import password_signin
from zhiku.accounts import secrets as sec
from zhiku.accounts.errors import BadCredentials, ChooseWorkspace
from zhiku.accounts.invitations import Invitation, Invitations
from zhiku.accounts.key_store import KeySql
from zhiku.accounts.passwords import check_password
from zhiku.accounts.principal import Principal
from zhiku.accounts.records import Member, Workspace
from zhiku.accounts.session_store import SessionSql
from zhiku.audit.log import AuditLog
from zhiku.audit.recorder import Audit
from zhiku.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhiku.core.names import check_workspace_name
from zhiku.store.db import Database


class AccountStore(KeySql, SessionSql):
    """Workspaces, users, memberships, sessions, keys and invitations in the shared database.

    E-mail addresses are compared without regard to case (``lower(email)``, unique on both
    backends).
    """

    def __init__(self, db: Database, cost: sec.HashCost = sec.DEFAULT_COST) -> None:
        """``cost``: argon2id's parameters for the passwords it hashes."""
        self.db = db
        self.cost = cost
        self.invitations = Invitations(db)
        self.audit_log = AuditLog(db)

    def audit(self, workspace_id: int | None) -> Audit:
        """The audit recorder of a workspace (see ``zhiku.audit``)."""
        return Audit(self.audit_log, workspace_id)

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
        """A new workspace; ``InvalidName`` for a name the naming rule refuses, ``Conflict``
        when the name is taken."""
        check_workspace_name(name)
        try:
            with self.db.write() as conn:
                row = conn.execute(
                    "INSERT INTO workspaces (name) VALUES (?) RETURNING id", (name,)
                ).fetchone()
                return int(row[0])
        except self.db.IntegrityError as exc:
            raise Conflict("that workspace name is taken") from exc

    def ensure_workspace(self, name: str) -> int:
        """The id of workspace ``name``, created when missing. The name must pass the naming
        rule even when it exists (checked first: PostgreSQL cannot look up a name with NUL)."""
        check_workspace_name(name)
        return self.workspace_id(name) or self.create_workspace(name)

    def workspace_id(self, name: str) -> int | None:
        """The id of workspace ``name``, if it exists."""
        row = self.db.conn.execute("SELECT id FROM workspaces WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def user_workspaces(self, user_id: int) -> list[Workspace]:
        """The workspaces a user belongs to, with the role in each."""
        rows = self.db.conn.execute(
            "SELECT w.id, w.name, m.role FROM memberships m JOIN workspaces w "
            "ON w.id = m.workspace_id WHERE m.user_id = ? ORDER BY w.id",
            (user_id,),
        )
        return [Workspace(id=int(r["id"]), name=str(r["name"]), role=str(r["role"])) for r in rows]

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
                    (email, name, sec.hash_password(password, self.cost)),
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
                "choose a workspace", workspaces=[w.name for w in spaces]
            )
        chosen = [w for w in spaces if workspace is None or w.name == workspace]
        if not chosen:
            raise Forbidden(
                "the user is not a member of that workspace" if spaces else
                "this account belongs to no workspace; join one with an invitation"
            )
        password_signin.check(self.db, user_id, chosen[0].id, chosen[0].name)
        return self.new_session(user_id, chosen[0].id, hours)

    def verify(self, email: str, password: str) -> int:
        """The user's id when the password is right, else ``BadCredentials``.

        An unknown e-mail costs the same one verify (against a fixed hash) as a known one, so the
        time taken does not tell whether the account exists.
        """
        row = self.db.conn.execute(
            "SELECT id, password_hash FROM users WHERE lower(email) = lower(?)", (email,)
        ).fetchone()
        stored = sec.dummy_hash(self.cost) if row is None else str(row["password_hash"])
        if not sec.verify_password(stored, password) or row is None:
            raise BadCredentials("wrong e-mail or password")
        return int(row["id"])

    def join(self, invitation: Invitation, password: str, name: str, hours: float) -> str:
        """Use an invitation's token: create the account for its e-mail (or, when one exists,
        check its password), accept the invitation, and open a session in that workspace."""
        user_id = self.user_id(invitation.email)
        password_signin.check(self.db, user_id, invitation.workspace_id, invitation.workspace)
        if user_id is None:
            user_id = self.create_user(invitation.email, password, name)
        else:
            user_id = self.verify(invitation.email, password)
        self.invitations.accept(invitation, user_id)
        return self.new_session(user_id, invitation.workspace_id, hours)

    # -- authentication -------------------------------------------------------------------
    def authenticate(self, token: str) -> Principal:
        """The principal behind a bearer token (a session or an API key), or ``Unauthorized``."""
        if token.startswith(sec.SESSION_PREFIX + "_"):
            return self.session_principal(token)
        return self.key_principal(token)
