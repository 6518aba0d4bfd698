"""The one error hierarchy. Faces map ``status`` to exit codes or HTTP responses in one place."""

from __future__ import annotations


class ZhikuError(Exception):
    """Base of every error Zhiku raises on purpose."""

    status: int = 500
    kind: str = "internal_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(ZhikuError):
    """The caller sent something malformed or out of range."""

    status = 400
    kind = "invalid_request"


class InvalidName(InvalidInput):
    """A name someone gives a thing breaks the naming rule (length, control characters);
    422, as a request body that fails validation."""

    status = 422


class NotFound(ZhikuError):
    """A named resource does not exist (or is not visible to the caller)."""

    status = 404
    kind = "not_found"


class Conflict(ZhikuError):
    """The resource already exists or is in a state that forbids the action."""

    status = 409
    kind = "conflict"


class Unauthorized(ZhikuError):
    """No credentials, or credentials that are unknown, expired or revoked."""

    status = 401
    kind = "unauthorized"


class Forbidden(ZhikuError):
    """The caller is known but its role or key scope does not allow this."""

    status = 403
    kind = "forbidden"


class RateLimited(ZhikuError):
    """Too many requests from this client (key, session, account or address);
    ``retry_after`` seconds to wait."""

    status = 429
    kind = "rate_limited"


class PayloadTooLarge(InvalidInput):
    """A file or request is over its configured size limit."""

    status = 413
    kind = "payload_too_large"


class UnsupportedFormat(InvalidInput):
    """No parser handles this file type."""

    status = 415
    kind = "unsupported_format"


class ParseError(InvalidInput):
    """A file could not be read: corrupt, encrypted, empty or not text."""

    status = 422
    kind = "parse_error"


class MissingDependency(ZhikuError):
    """An optional extra is needed; the message says what to install."""

    status = 501
    kind = "missing_dependency"


class ProviderError(ZhikuError):
    """A model provider failed (time-out, bad key, unknown model, broken stream)."""

    status = 502
    kind = "provider_error"


class SourceError(ZhikuError):
    """A knowledge base's source failed: a listing or query that errs, an answer that makes
    no sense. The message names the source, never its credentials."""

    status = 502
    kind = "source_error"


class SourceUnreachable(SourceError):
    """A source did not answer: closed port, unknown host, time-out."""

    kind = "source_unreachable"


class SourceAuthFailed(SourceError):
    """A source refused the credentials configured for it."""

    kind = "source_auth_failed"
class RunFailed(ZhikuError):
    """An app's run ended without an answer (a node or the agent's model failed)."""

    status = 502
    kind = "run_failed"
