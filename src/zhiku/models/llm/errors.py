"""Provider failures, each a ``ProviderError`` so the faces map them in one place."""

from __future__ import annotations

from zhiku.core.errors import ProviderError


class AuthenticationFailed(ProviderError):
    """The provider refused the API key (HTTP 401/403)."""

    status = 502
    kind = "provider_auth"


class UnknownModel(ProviderError):
    """The provider does not serve the requested model."""

    kind = "unknown_model"


class ContextOverflow(ProviderError):
    """The prompt plus the requested output does not fit the model's context window."""

    kind = "context_overflow"


class ProviderRateLimited(ProviderError):
    """The provider answered HTTP 429 after every retry."""

    kind = "rate_limited"


class ProviderUnavailable(ProviderError):
    """HTTP 5xx, connection failure or time-out after every retry."""

    kind = "provider_unavailable"


class ProviderTimeout(ProviderUnavailable):
    """The provider did not answer within the time-out."""

    kind = "provider_timeout"


class BrokenStream(ProviderError):
    """The stream ended before ``[DONE]`` or a finish reason, or sent an undecodable event."""

    kind = "broken_stream"


class MalformedResponse(ProviderError):
    """The provider answered 200 with a body that is not the expected JSON."""

    kind = "malformed_response"


class ToolsUnsupported(ProviderError):
    """The model cannot call tools (its chat format has no tool calling)."""

    status = 400
    kind = "tools_unsupported"


class Cancelled(ProviderError):
    """The caller cancelled the call."""

    status = 499
    kind = "cancelled"


RETRYABLE: tuple[type[ProviderError], ...] = (ProviderRateLimited, ProviderUnavailable)
"""Failures worth another attempt on the same model (and a fallback model after that)."""
