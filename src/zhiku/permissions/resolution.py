"""The one place a caller's reader scope is resolved.

``reader_groups`` says which groups' restricted documents a caller reads, or None for every
document. Group sources other than the stored memberships (a directory's groups mapped at
sign-in) join here and nowhere else.
"""

from __future__ import annotations

from zhiku.accounts.principal import ROLE_LEVEL, Level, Principal
from zhiku.store.db import Database
from zhiku.store.reader import Reader


def reader_groups(db: Database, workspace_id: int, principal: Principal) -> frozenset[int] | None:
    """The groups whose restricted documents ``principal`` reads in the workspace; None: every
    document (workspace owners and administrators, and keys with admin access, who may set
    any document's groups anyway). Members, viewers and other keys read the unrestricted
    documents plus those restricted to one of their groups."""
    if principal.level >= Level.ADMIN:
        return None
    if principal.key_id is not None:
        column, member = "key_id", principal.key_id
    elif principal.user_id is not None:
        column, member = "user_id", principal.user_id
    else:
        return frozenset()
    rows = db.conn.execute(
        f"SELECT m.group_id FROM access_group_members m JOIN access_groups g "
        f"ON g.id = m.group_id WHERE m.{column} = ? AND g.workspace_id = ?",
        (member, workspace_id),
    )
    return frozenset(int(r[0]) for r in rows)


def reader_for(db: Database, principal: Principal) -> Reader:
    """The reader scope of ``principal`` in its own workspace."""
    return Reader.of(reader_groups(db, principal.workspace_id, principal))


def reader_for_member(db: Database, workspace_id: int, email: str, *,
                      as_viewer: bool = False) -> Reader | None:
    """The reader scope of the workspace member with this e-mail address (None: no such
    member), resolved as for that member signing in; ``as_viewer``: as that member with read
    access only, so an administrator's address still reads just their groups' documents."""
    row = db.conn.execute(
        "SELECT u.id, m.role FROM users u JOIN memberships m ON m.user_id = u.id "
        "WHERE LOWER(u.email) = LOWER(?) AND m.workspace_id = ?",
        (email.strip(), workspace_id),
    ).fetchone() if email.strip() else None
    if row is None:
        return None
    level = Level.READ if as_viewer else ROLE_LEVEL.get(str(row[1]), Level.READ)
    member = Principal(workspace_id, level, user_id=int(row[0]))
    return Reader.of(reader_groups(db, workspace_id, member))


def reader_for_identity(db: Database, workspace_id: int, user: str) -> Reader:
    """The reader scope of a signed end-user identity a share link's page passes: the groups
    of the workspace member with that e-mail address (an identity never reads everything);
    public-only for anyone else."""
    found = reader_for_member(db, workspace_id, user, as_viewer=True)
    return found if found is not None else Reader.public()
