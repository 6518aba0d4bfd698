"""The secrets of share links, pure and free of I/O.

- The link token is the unguessable part of the public URL (``/s/<token>``); only its SHA-256
  is stored, so it is shown once, when made or rotated.
- A visitor token is what a page gets from ``POST /s/<token>/session``: a payload (link, app,
  origin, channel, visitor id, external user, expiry) signed with HMAC-SHA256 under the link's
  own visitor key. Rotating the link changes that key, so every visitor token dies with it.
- A signed identity lets an intranet page name its signed-in user: ``sig`` is the hex
  HMAC-SHA256 of ``"<user>.<exp>"`` under the link's signing secret (``exp`` is a Unix time),
  or of ``"<user>\n<exp>\n<name>"`` when it also gives the user's display name (neither
  field may hold a control character, so no two identities sign the same text).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

LINK_PREFIX = "zkl_"
VISITOR_PREFIX = "zkv_"
SIGNING_PREFIX = "zkss_"
MAX_USER = 200
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class VisitorClaims:
    """What a visitor token vouches for. ``origin``: the web origin the session was made from
    ("" for the server's own pages); ``visitor``: a random id of this visitor session;
    ``user``: the external user id of a signed identity ("" without one), ``name``: its display
    name ("" without one); ``exp``: Unix time."""

    link: int
    app: int
    origin: str
    channel: str
    visitor: str
    user: str
    exp: int
    name: str = ""


def new_link_token() -> str:
    """A new link token (256 random bits)."""
    return LINK_PREFIX + secrets.token_urlsafe(32)


def new_signing_secret() -> str:
    """A new identity-signing secret."""
    return SIGNING_PREFIX + secrets.token_urlsafe(32)


def new_visitor_key() -> str:
    """A new key for a link's visitor tokens."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Hex SHA-256 of a link token: how the token is found without being stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, data: bytes) -> str:
    return _b64(hmac.new(key.encode(), data, hashlib.sha256).digest())


def sign_visitor(key: str, claims: VisitorClaims) -> str:
    """A visitor token for ``claims`` under ``key``."""
    body = _b64(json.dumps(asdict(claims), separators=(",", ":")).encode())
    return f"{VISITOR_PREFIX}{body}.{_mac(key, body.encode())}"


def visitor_link(token: str) -> int | None:
    """The link id a visitor token claims (unverified: to pick the key that verifies it)."""
    claims = _claims(token)
    return None if claims is None else claims.link


def verify_visitor(key: str, token: str, now: float) -> VisitorClaims | None:
    """The claims of a visitor token signed with ``key`` and not expired at ``now``; None when
    it is malformed, forged, signed with another key or expired."""
    if not token.startswith(VISITOR_PREFIX) or token.count(".") != 1:
        return None
    body, mac = token[len(VISITOR_PREFIX):].split(".")
    if not hmac.compare_digest(mac, _mac(key, body.encode())):
        return None
    claims = _claims(token)
    if claims is None or claims.exp <= now:
        return None
    return claims


def _claims(token: str) -> VisitorClaims | None:
    if not token.startswith(VISITOR_PREFIX) or token.count(".") != 1:
        return None
    body = token[len(VISITOR_PREFIX):].split(".")[0]
    try:
        data = json.loads(_unb64(body))
        return VisitorClaims(**data)
    except (ValueError, TypeError):
        return None


def identity_signature(secret: str, user: str, exp: int, name: str | None = None) -> str:
    """The hex signature an intranet page sends with ``user``, ``exp`` and (optionally) the
    user's display ``name``."""
    text = f"{user}.{exp}" if name is None else f"{user}\n{exp}\n{name}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _printable(text: str) -> bool:
    return not any(ord(c) < 32 or ord(c) == 127 for c in text)


def check_identity(secret: str, user: str, exp: int, sig: str, now: float,
                   name: str | None = None) -> str | None:
    """Why a signed identity is refused (None: accepted)."""
    if not user or len(user) > MAX_USER or not _printable(user):
        return f"the user id is 1-{MAX_USER} printable characters"
    if name is not None and (not name or len(name) > MAX_NAME or not _printable(name)):
        return f"the user's name is 1-{MAX_NAME} printable characters"
    if exp <= now:
        return "the signed identity has expired"
    if not hmac.compare_digest(sig.lower(), identity_signature(secret, user, exp, name)):
        return "the identity signature does not match"
    return None


def normalize_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in lower case (default ports dropped), or None when ``value``
    is not an http(s) origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + ("" if port in (None, default) else f":{port}")
