"""Directory identities: who a directory account (an OIDC issuer's subject, an LDAP entry) is
in Zhiku, and the directory groups it had at its last sign-in.

A returning account is found by ``(provider, subject)``; a new one is linked to the user with
its e-mail, or a new user is made (with an unusable random password: they sign in through the
directory, or set a password by an invitation).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from zhiku.accounts import secrets as sec
from zhiku.core.errors import Forbidden, InvalidInput
from zhiku.store.db import Connection, Database


@dataclass(frozen=True, slots=True)
class DirectoryAccount:
    """What a directory says about the person signing in."""

    provider: str  # the OIDC issuer URL, or "ldap:" + the server URL
    subject: str  # stable within the provider: the OIDC sub, the LDAP entry's DN
    email: str
    name: str = ""
    groups: list[str] = field(default_factory=list)
    email_verified: bool = True


def directory_groups(conn: Connection, user_id: int) -> list[str]:
    """The directory groups of a user, from every directory they signed in through, sorted."""
    rows = conn.execute(
        "SELECT groups_json FROM directory_identities WHERE user_id = ?", (user_id,)
    ).fetchall()
    return sorted({g for row in rows for g in json.loads(row[0])})


def link(db: Database, account: DirectoryAccount) -> tuple[int, bool]:
    """``(user_id, created)`` for the account: its linked user, else the user with its
    e-mail (linked now), else a new user; its groups and sign-in time are recorded."""
    row = db.conn.execute(
        "SELECT user_id FROM directory_identities WHERE provider = ? AND subject = ?",
        (account.provider, account.subject),
    ).fetchone()
    created = False
    if row is not None:
        user_id = int(row[0])
    else:
        user_id, created = _user_for(db, account)
    with db.write() as conn:
        conn.execute(
            "INSERT INTO directory_identities (user_id, provider, subject, groups_json) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (provider, subject) DO UPDATE SET "
            f"groups_json = excluded.groups_json, last_login = {db.now}",
            (user_id, account.provider, account.subject, json.dumps(sorted(account.groups))),
        )
    return user_id, created


def _user_for(db: Database, account: DirectoryAccount) -> tuple[int, bool]:
    if not 3 <= len(account.email) <= 320 or "@" not in account.email:
        raise InvalidInput("the directory sent no usable e-mail address for this account")
    row = db.conn.execute(
        "SELECT id FROM users WHERE lower(email) = lower(?)", (account.email,)
    ).fetchone()
    if row is not None:
        if not account.email_verified:
            raise Forbidden(
                "the directory has not verified this e-mail address, which belongs to an "
                "existing account; verify it with the identity provider first"
            )
        return int(row[0]), False
    unusable = sec.hash_password(secrets.token_urlsafe(32))
    try:
        with db.write() as conn:
            new = conn.execute(
                "INSERT INTO users (email, name, password_hash) VALUES (?, ?, ?) RETURNING id",
                (account.email, account.name[:200], unusable),
            ).fetchone()
    except db.IntegrityError:  # a sign-in of the same person at the same moment made it
        return _user_for(db, account)
    return int(new[0]), True
