"""Console sessions in cookies: where a request's credential comes from, and the CSRF check.

The session token travels in an HttpOnly, SameSite=Strict cookie that page scripts cannot read.
Requests that change something and are authenticated by that cookie must also send
``X-CSRF-Token``: a value derived from the session token, handed to the page in a readable
cookie (double submit), and, when the browser says where the request comes from, an ``Origin``
equal to the server's own (its Host, or the X-Forwarded-Host a reverse proxy sets).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

from zhiku.core.errors import Forbidden

SESSION_COOKIE = "zhiku_session"
CSRF_COOKIE = "zhiku_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(session_token: str) -> str:
    """The CSRF value that belongs to a session (knowing it does not reveal the session)."""
    return hashlib.sha256(b"zhiku-csrf\x00" + session_token.encode()).hexdigest()


def credential(headers: Mapping[str, str], cookies: Mapping[str, str]) -> tuple[str, bool]:
    """``(token, from_cookie)``: the bearer token if sent, else the session cookie, else ''."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = cookies.get(SESSION_COOKIE, "")
    return (cookie, True) if cookie else ("", False)


def check_csrf(method: str, headers: Mapping[str, str], session_token: str) -> None:
    """Raise ``Forbidden`` when a cookie-authenticated unsafe request lacks the CSRF proof."""
    if method.upper() in SAFE_METHODS:
        return
    origin = headers.get("origin")
    if origin is not None:
        # behind a reverse proxy the Host header may name the upstream; the proxy then
        # tells the public host in X-Forwarded-Host (a page cannot set either cross-site)
        forwarded = headers.get("x-forwarded-host", "").split(",")[0].strip()
        if urlsplit(origin).netloc not in {headers.get("host", ""), forwarded} - {""}:
            raise Forbidden("cross-origin requests cannot use the session cookie")
    sent = headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, csrf_token(session_token)):
        raise Forbidden(f"send the {CSRF_HEADER} header with cookie sessions")
