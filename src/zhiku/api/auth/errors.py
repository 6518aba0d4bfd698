"""Access errors, part of the one hierarchy (``zhiku.core.errors``) the API maps to HTTP."""

from __future__ import annotations

from zhiku.core.errors import ZhikuError


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
