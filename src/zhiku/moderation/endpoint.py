"""An OpenAI-compatible moderation endpoint (``POST {base_url}/moderations``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from zhiku.core.errors import ProviderError


@dataclass(frozen=True, slots=True)
class EndpointVerdict:
    """Whether the endpoint flagged the text, and the categories it named."""

    flagged: bool
    categories: list[str]


class ModerationEndpoint:
    """Asks one provider's ``/moderations`` about a text."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout_s: float,
                 transport: Callable[[], httpx.BaseTransport] | None = None) -> None:
        self._url = base_url.rstrip("/") + "/moderations"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_s
        self._transport = transport  # a new one per request (the client closes it)

    def check(self, text: str) -> EndpointVerdict:
        """The verdict; ``ProviderError`` when the endpoint fails, times out or answers oddly
        (the message never holds the key)."""
        try:
            with httpx.Client(trust_env=False,
                              transport=self._transport() if self._transport else None) as http:
                reply = http.post(self._url, json={"model": self._model, "input": text},
                                  headers=self._headers, timeout=self._timeout)
        except httpx.TimeoutException:
            raise ProviderError(f"the moderation endpoint did not answer within "
                                f"{self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise ProviderError(f"the moderation endpoint failed: {type(exc).__name__}") from None
        if reply.status_code >= 400:
            raise ProviderError(f"the moderation endpoint answered HTTP {reply.status_code}")
        try:
            result = reply.json()["results"][0]
            categories = [k for k, v in (result.get("categories") or {}).items() if v]
            return EndpointVerdict(bool(result["flagged"]), sorted(categories))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError("the moderation endpoint's answer is not a moderation "
                                "result") from None
