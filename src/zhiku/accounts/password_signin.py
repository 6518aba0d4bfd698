"""Password sign-in per workspace: a workspace that signs its people in through a directory
can turn e-mail-and-password sign-in off. The instance owner (the first account, made by
``zhiku admin init``) keeps password sign-in everywhere, so a broken directory configuration
never locks everybody out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhiku.accounts.principal import Principal
from zhiku.accounts.scope import check_unrestricted
from zhiku.core.errors import Forbidden
from zhiku.store.db import Database

if TYPE_CHECKING:  # the account store imports this module
    from zhiku.accounts.store import AccountStore


def allowed(db: Database, workspace_id: int) -> bool:
    """Whether members may sign in to the workspace with a password."""
    row = db.conn.execute(
        "SELECT password_signin FROM workspaces WHERE id = ?", (workspace_id,)
    ).fetchone()
    return row is None or bool(row[0])


def set_allowed(db: Database, workspace_id: int, on: bool) -> None:
    """Turn password sign-in to the workspace on or off."""
    with db.write() as conn:
        conn.execute(
            "UPDATE workspaces SET password_signin = ? WHERE id = ?", (int(on), workspace_id)
        )


def instance_owner(db: Database) -> int | None:
    """The first account of the installation, which keeps password sign-in."""
    row = db.conn.execute("SELECT min(id) FROM users").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def check(db: Database, user_id: int | None, workspace_id: int, workspace: str) -> None:
    """``Forbidden`` when the workspace refuses password sign-in to this user (None: an
    account not made yet)."""
    if allowed(db, workspace_id) or (user_id is not None and user_id == instance_owner(db)):
        return
    raise Forbidden(
        f"password sign-in is turned off in workspace '{workspace}': sign in with single "
        "sign-on or your directory account",
        password_signin=False,
    )


def change(store: AccountStore, caller: Principal, on: bool) -> bool:
    """Turn password sign-in to the caller's workspace on or off (admins not limited to some
    names); audited."""
    with store.audit(caller.workspace_id).attempt(
        "workspace.signin", "workspace", caller.workspace_id, detail={"password_signin": on}
    ):
        check_unrestricted(caller)
        set_allowed(store.db, caller.workspace_id, on)
    return on
