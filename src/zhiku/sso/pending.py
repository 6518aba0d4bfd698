"""OIDC sign-ins in progress: what the callback needs to finish one (nonce, PKCE verifier,
redirect URI, the workspace asked for), kept under the SHA-256 of its state for minutes and
used once."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from zhiku.accounts import secrets as sec
from zhiku.accounts.records import iso
from zhiku.core.errors import RateLimited, Unauthorized
from zhiku.store.db import Database

LIFETIME_SECONDS = 600
MAX_PENDING = 10_000  # sign-ins started and not finished: a bound on what anonymous calls store


@dataclass(frozen=True, slots=True)
class Pending:
    """One sign-in between the redirect to the provider and the callback."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    workspace: str | None = None

    @property
    def code_challenge(self) -> str:
        """The PKCE S256 challenge of the verifier."""
        digest = hashlib.sha256(self.code_verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start(db: Database, redirect_uri: str, workspace: str | None) -> Pending:
    """A new pending sign-in with fresh state, nonce and verifier, stored (expired ones are
    cleared on the way); ``RateLimited`` while ``MAX_PENDING`` are under way."""
    pending = Pending(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                      secrets.token_urlsafe(48), redirect_uri, workspace)
    with db.write() as conn:
        conn.execute(f"DELETE FROM sso_states WHERE expires_at < {db.now}")
        if conn.execute("SELECT count(*) FROM sso_states").fetchone()[0] >= MAX_PENDING:
            raise RateLimited("too many sign-ins are under way; try again in a few minutes",
                              retry_after=60)
        conn.execute(
            "INSERT INTO sso_states (state_hash, nonce, code_verifier, redirect_uri, workspace, "
            f"expires_at) VALUES (?, ?, ?, ?, ?, {db.later})",
            (sec.sha256(pending.state), pending.nonce, pending.code_verifier, redirect_uri,
             workspace, LIFETIME_SECONDS),
        )
    return pending


def finish(db: Database, state: str) -> Pending:
    """The pending sign-in of ``state``, removed so it serves once; ``Unauthorized`` when it
    is unknown, used or expired."""
    with db.write() as conn:
        row = conn.execute(
            "DELETE FROM sso_states WHERE state_hash = ? RETURNING nonce, code_verifier, "
            "redirect_uri, workspace, expires_at",
            (sec.sha256(state),),
        ).fetchone()
    if row is None or str(row["expires_at"]) < iso(datetime.now(UTC)):
        raise Unauthorized("this sign-in is unknown, used or expired; start it again")
    return Pending(state, str(row["nonce"]), str(row["code_verifier"]),
                   str(row["redirect_uri"]), row["workspace"])
