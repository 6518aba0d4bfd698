"""Managing an app's share links: create, list, change, rotate, delete (one workspace).

Secrets are shown once: ``create`` and ``rotate`` return the link token (the public URL is
``/s/<token>``) and, when made or renewed, the identity-signing secret. A link can be made for
a published app only: visitors get what was published, never a draft in the making.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from zhiku.accounts.secrets import DEFAULT_COST, HashCost, hash_password
from zhiku.core.errors import Conflict, InvalidInput
from zhiku.core.timestamps import stamp
from zhiku.models.llm.secrets import SecretBox
from zhiku.share import tokens
from zhiku.share.store import ShareLink, ShareLinkStore

MAX_ORIGINS = 50
MAX_PASSWORD = 200


@dataclass(frozen=True, slots=True)
class AppRef:
    """An app a link can point at: its kind, id, slug and whether it has a published version."""

    kind: str
    id: int
    slug: str
    published: bool


@dataclass(slots=True)
class Issued:
    """A link with the secrets shown this once (``signing_secret`` only when made or renewed)."""

    link: ShareLink
    token: str
    signing_secret: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**self.link.to_dict(), "token": self.token, "path": f"/s/{self.token}",
                "signing_secret": self.signing_secret}


def check_origins(origins: Iterable[str]) -> list[str]:
    """The allow-list normalized (``scheme://host[:port]``), or ``InvalidInput``."""
    out: list[str] = []
    for raw in origins:
        origin = tokens.normalize_origin(raw)
        if origin is None:
            raise InvalidInput(f"'{raw[:100]}' is not a web origin (scheme://host[:port])")
        if origin not in out:
            out.append(origin)
    if len(out) > MAX_ORIGINS:
        raise InvalidInput(f"at most {MAX_ORIGINS} allowed origins")
    return out


def check_expiry(value: str | None) -> str | None:
    """An ISO-8601 time as stored (UTC, ``…Z``), or None for no expiry."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput("expires_at is an ISO-8601 time, e.g. 2027-01-31T18:00:00Z") from exc
    return stamp(when.replace(microsecond=0))


def expired(link: ShareLink, now: datetime | None = None) -> bool:
    """Whether the link's expiry has passed."""
    if link.expires_at is None:
        return False
    when = datetime.fromisoformat(link.expires_at.replace("Z", "+00:00"))
    return when <= (now or datetime.now(UTC))


class ShareLinks:
    """The share links of one workspace; ``app`` resolves ``(kind, slug)`` to an ``AppRef``
    (``NotFound`` for an unknown app)."""

    def __init__(self, store: ShareLinkStore, workspace_id: int, box: SecretBox,
                 app: Callable[[str, str], AppRef],
                 audit: Callable[..., object] | None = None,
                 cost: HashCost = DEFAULT_COST) -> None:
        """``cost``: argon2id's parameters for link passwords."""
        self._store = store
        self._cost = cost
        self._ws = workspace_id
        self._box = box
        self._app = app
        self._audit = audit or (lambda *args, **kwargs: None)

    def create(self, slug: str, *, kind: str = "assistant", name: str = "",
               password: str | None = None, expires_at: str | None = None,
               rate_per_minute: int = 20, daily_quota: int = 1000,
               allowed_origins: Iterable[str] = (), created_by: int | None = None) -> Issued:
        """A new, enabled link to a published app."""
        app = self._app(kind, slug)
        if not app.published:
            raise Conflict(f"publish {kind} '{slug}' before sharing it")
        token, secret = tokens.new_link_token(), tokens.new_signing_secret()
        link = self._store.create(
            self._ws, app.kind, app.id, app.slug, token_hash=tokens.token_hash(token),
            token_hint=token[-4:], visitor_key=self._box.encrypt(tokens.new_visitor_key()),
            signing_secret=self._box.encrypt(secret), created_by=created_by,
            **self._settings(name=name, password=password, expires_at=expires_at,
                             rate_per_minute=rate_per_minute, daily_quota=daily_quota,
                             allowed_origins=allowed_origins),
        )
        self._audit("share.create", "share_link", link.id, f"{kind}:{slug}",
                    detail={"password": password is not None, "expires_at": expires_at})
        return Issued(link, token, secret)

    def list(self, slug: str, kind: str = "assistant") -> list[ShareLink]:
        """The links of one app."""
        app = self._app(kind, slug)
        return self._store.list(self._ws, app.kind, app.id)

    def get(self, link_id: int) -> ShareLink:
        """One link of this workspace."""
        return self._store.get(self._ws, link_id)

    def update(self, link_id: int, **changes: Any) -> ShareLink:
        """Change name, enabled, password (None or "" clears it), expires_at (None clears it),
        rate_per_minute, daily_quota or allowed_origins."""
        updated = self._store.update(self._ws, link_id, **self._settings(**changes))
        self._audit("share.update", "share_link", link_id, None,
                    detail={"changed": sorted(changes)})
        return updated

    def rotate(self, link_id: int, *, signing_secret: bool = False) -> Issued:
        """A new token (the old URL and every visitor token stop working at once) and, with
        ``signing_secret``, a new identity-signing secret."""
        token = tokens.new_link_token()
        changes: dict[str, Any] = {
            "token_hash": tokens.token_hash(token), "token_hint": token[-4:],
            "visitor_key": self._box.encrypt(tokens.new_visitor_key()),
        }
        secret = tokens.new_signing_secret() if signing_secret else None
        if secret is not None:
            changes["signing_secret"] = self._box.encrypt(secret)
        rotated = Issued(self._store.update(self._ws, link_id, **changes), token, secret)
        self._audit("share.rotate", "share_link", link_id, None,
                    detail={"signing_secret": signing_secret})
        return rotated

    def delete(self, link_id: int) -> None:
        """Remove a link."""
        self._store.delete(self._ws, link_id)
        self._audit("share.delete", "share_link", link_id, None)

    def _settings(self, **given: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in given.items():
            if key == "password":
                if value is not None and len(value) > MAX_PASSWORD:
                    raise InvalidInput(f"a link password has at most {MAX_PASSWORD} characters")
                out["password_hash"] = hash_password(value, self._cost) if value else None
            elif key == "expires_at":
                out["expires_at"] = check_expiry(value)
            elif key == "allowed_origins":
                out["allowed_origins"] = check_origins(value)
            elif key in ("rate_per_minute", "daily_quota"):
                if not isinstance(value, int) or value < 1:
                    raise InvalidInput(f"{key} is a whole number of at least 1")
                out[key] = value
            elif key == "name":
                out["name"] = str(value)[:200]
            elif key == "enabled":
                out["enabled"] = bool(value)
            else:
                raise InvalidInput(f"unknown share link setting '{key}'")
        return out

