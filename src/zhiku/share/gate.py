"""The public side of share links: find a live link by its token, count requests against its
limits, open a visitor session and check a visitor token on each chat.

Every way a link can be unusable (unknown or rotated token, disabled, expired, its app deleted
or unpublished) answers the same ``NotFound``, so a visitor learns nothing about the app or the
workspace behind it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from zhiku.accounts.secrets import DEFAULT_COST, HashCost, dummy_hash, verify_password
from zhiku.core.errors import Forbidden, NotFound, RateLimited, Unauthorized
from zhiku.models.llm.secrets import SecretBox
from zhiku.share import tokens
from zhiku.share.links import AppRef, expired
from zhiku.share.store import ShareLink, ShareLinkStore
from zhiku.share.tokens import VisitorClaims

GONE = "this link does not exist or is no longer available"
BAD_VISITOR = "the visitor token is missing, expired or not for this link; open a new session"
WRONG_ORIGIN = "this page's origin may not use this link"
PASSWORD = "this link needs its password"


@dataclass(frozen=True, slots=True)
class Identity:
    """A signed end-user identity as an intranet page passes it."""

    user: str
    exp: int
    sig: str
    name: str | None = None


class ShareGate:
    """Public access through share links, for every workspace of one database. ``app`` finds
    a link's app (None: deleted); ``hashing`` holds one of the process's password-hashing
    slots (argon2 takes 64 MiB a check) while a link password is checked."""

    def __init__(self, store: ShareLinkStore, box: SecretBox,
                 app: Callable[[ShareLink], AppRef | None], visitor_minutes: float,
                 hashing: Callable[[], AbstractContextManager[None]] = nullcontext,
                 cost: HashCost = DEFAULT_COST) -> None:
        """``cost``: argon2id's parameters of link passwords (the dummy check's)."""
        self._store = store
        self._cost = cost
        self._box = box
        self._app = app
        self._ttl = visitor_minutes * 60
        self._hashing = hashing

    def resolve(self, token: str) -> ShareLink:
        """The live link of ``token`` (``NotFound`` otherwise, whatever the reason)."""
        link = self._store.by_token_hash(tokens.token_hash(token)) if token else None
        if link is None or not link.enabled or expired(link):
            raise NotFound(GONE)
        app = self._app(link)
        if app is None or app.id != link.app_id or not app.published:
            raise NotFound(GONE)
        return link

    def limit(self, link: ShareLink, address: str, now: datetime | None = None) -> None:
        """Count a request from ``address``: ``RateLimited`` past the link's rate a minute."""
        at = now or datetime.now(UTC)
        count = self._store.hit(link.id, "m:" + at.strftime("%Y-%m-%dT%H:%M"), address)
        if count > link.rate_per_minute:
            raise RateLimited("too many requests through this link; wait a minute",
                              retry_after=60 - at.second)

    def quota(self, link: ShareLink, now: datetime | None = None) -> None:
        """Count a chat: ``RateLimited`` past the link's daily quota (UTC days)."""
        at = now or datetime.now(UTC)
        count = self._store.hit(link.id, "d:" + at.strftime("%Y-%m-%d"), "")
        if count > link.daily_quota:
            tomorrow = datetime(at.year, at.month, at.day, tzinfo=UTC) + timedelta(days=1)
            raise RateLimited("this link has used its answers for today",
                              retry_after=int((tomorrow - at).total_seconds()) + 1)

    def check_origin(self, link: ShareLink, origin: str) -> None:
        """A foreign ``origin`` (normalized; "" for the server's own pages) must be allowed."""
        if origin and origin not in link.allowed_origins:
            raise Forbidden(WRONG_ORIGIN)

    def open_session(self, link: ShareLink, *, origin: str, password: str | None = None,
                     identity: Identity | None = None, embedded: bool = False) -> tuple[
                         str, VisitorClaims]:
        """A visitor token bound to the link, its app and ``origin``; checks the origin, the
        password (when the link has one) and a signed identity (when given)."""
        self.check_origin(link, origin)
        kept = self._store.secrets(link.id)
        if kept.password_hash is not None:
            if not password:
                raise Unauthorized(PASSWORD, needs="password")
            with self._hashing():
                right = verify_password(kept.password_hash, password)
            if not right:
                raise Unauthorized("wrong password for this link", needs="password")
        elif password:
            with self._hashing():  # the same time with or without a password
                verify_password(dummy_hash(self._cost), password)
        user = name = ""
        if identity is not None:
            secret = self._box.decrypt(kept.signing_secret)
            why = tokens.check_identity(secret, identity.user, identity.exp, identity.sig,
                                        time.time(), identity.name)
            if why is not None:
                raise Unauthorized(why)
            user, name = identity.user, identity.name or ""
        claims = VisitorClaims(
            link=link.id, app=link.app_id, origin=origin,
            channel="widget" if embedded or origin else "share",
            visitor=secrets.token_urlsafe(12), user=user, exp=int(time.time() + self._ttl),
            name=name,
        )
        return tokens.sign_visitor(self._box.decrypt(kept.visitor_key), claims), claims

    def visitor(self, link: ShareLink, bearer: str, origin: str) -> VisitorClaims:
        """The claims of a visitor token for this link, used from the origin it was made for
        (``Unauthorized`` otherwise)."""
        if tokens.visitor_link(bearer) != link.id:
            raise Unauthorized(BAD_VISITOR)
        key = self._box.decrypt(self._store.secrets(link.id).visitor_key)
        claims = tokens.verify_visitor(key, bearer, time.time())
        if claims is None or claims.app != link.app_id or claims.origin != origin:
            raise Unauthorized(BAD_VISITOR)
        return claims
