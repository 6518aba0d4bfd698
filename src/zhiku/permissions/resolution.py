"""The one place a caller's reader scope is resolved.

``reader_groups`` says which groups' restricted documents a caller reads, or None for every
document: the groups the user or key is a member of, and for a user the workspace's groups
named like one of the directory groups (OIDC or LDAP) recorded at their last single sign-on.
"""

from __future__ import annotations

from zhiku.accounts.principal import ROLE_LEVEL, Level, Principal
from zhiku.sso.identities import directory_groups
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
    groups = {int(r[0]) for r in rows}
    if principal.key_id is None and principal.user_id is not None:
        groups |= _directory_group_ids(db, workspace_id, principal.user_id)
    return frozenset(groups)


def _directory_group_ids(db: Database, workspace_id: int, user_id: int) -> set[int]:
    """The workspace's groups named like one of the user's directory groups (OIDC claim or
    LDAP group, as recorded at their last sign-in): the whole name, or for a distinguished
    name its first value (``staff`` of ``cn=staff,ou=groups,dc=acme``); without regard to
    case."""
    names = sorted({n.lower() for name in directory_groups(db.conn, user_id)
                    for n in _names_of(name)})
    if not names:
        return set()
    marks = ", ".join("?" * len(names))
    rows = db.conn.execute(
        f"SELECT id FROM access_groups WHERE workspace_id = ? AND lower(name) IN ({marks})",
        (workspace_id, *names),
    )
    return {int(r[0]) for r in rows}


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


def _names_of(group: str) -> list[str]:
    """A directory group's name, and the first value of a distinguished name."""
    first, _, rest = group.partition(",")
    key, eq, value = first.partition("=")
    if eq and rest and key.strip().isalpha() and value.strip():
        return [group, value.strip()]
    return [group]
