"""Access errors, part of the one hierarchy (``zhiku.core.errors``) the API maps to HTTP."""

from __future__ import annotations

from zhiku.core.errors import Conflict, ZhikuError


class Unauthorized(ZhikuError):
    """No credentials, or credentials that are unknown, expired or revoked."""

    status = 401
    kind = "unauthorized"


class Forbidden(ZhikuError):
    """The caller is known but its role or key scope does not allow this."""

    status = 403
    kind = "forbidden"


class RateLimited(ZhikuError):
    """Too many requests for this key or session; ``retry_after`` seconds to wait."""

    status = 429
    kind = "rate_limited"


class BadCredentials(Unauthorized):
    """A wrong e-mail or password: what the sign-in throttle counts."""


class Busy(ZhikuError):
    """Every password-hashing slot is taken; ``retry_after`` seconds to wait."""

    status = 503
    kind = "busy"


class ChooseWorkspace(Conflict):
    """The password is right and the user belongs to several workspaces: name one of them."""

    kind = "choose_workspace"
