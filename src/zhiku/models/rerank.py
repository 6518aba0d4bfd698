"""A reranker client for the two common ``POST {base_url}/rerank`` protocols.

``tei`` (Hugging Face text-embeddings-inference): ``{query, texts}`` → ``[{index, score}]``.
``documents`` (Jina, SiliconFlow, vLLM, Cohere, DashScope-compatible services):
``{model, query, documents, top_n}`` → ``{results: [{index, relevance_score}]}`` (also read
under ``output``, as DashScope's native API nests it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import httpx

from zhiku.core.errors import ProviderError

RerankProtocol = Literal["tei", "documents"]


class RerankFailed(ProviderError):
    """The reranker could not be reached, refused the call, timed out or answered nonsense."""

    kind = "rerank_failed"


class RerankClient:
    """Scores passages against a query with a remote reranker."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        protocol: RerankProtocol = "documents",
        api_key: str | None = None,
        timeout: float = 10.0,
        name: str = "",
        transport: Callable[[], httpx.BaseTransport] | None = None,
    ) -> None:
        url = base_url.rstrip("/")
        self.url = url if url.endswith("/rerank") else url + "/rerank"
        self.model = model
        self.protocol = protocol
        self.name = name or model
        self._timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._transport = transport  # a new one per request (the client closes it)

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        """One score per text, in the order given (higher: more relevant)."""
        if not texts:
            return []
        body: dict[str, Any]
        if self.protocol == "tei":
            body = {"query": query, "texts": list(texts), "truncate": True}
        else:
            body = {"model": self.model, "query": query, "documents": list(texts),
                    "top_n": len(texts)}
        try:
            with httpx.Client(transport=self._transport() if self._transport else None) as http:
                resp = http.post(self.url, json=body, headers=self._headers,
                                 timeout=self._timeout)
        except httpx.TimeoutException as exc:
            raise RerankFailed(f"{self.name}: the reranker timed out after {self._timeout} s"
                               ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise RerankFailed(f"{self.name}: the reranker is unreachable ({exc})") from exc
        if resp.status_code != 200:
            raise RerankFailed(f"{self.name}: the reranker answered HTTP {resp.status_code}",
                               http=resp.status_code)
        try:
            return _parse(resp.json(), len(texts))
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise RerankFailed(f"{self.name}: the reranker's answer is not understood") from exc


def _parse(data: Any, n: int) -> list[float]:
    """Scores by index from either protocol's answer; every text must be scored."""
    if isinstance(data, dict):
        data = data.get("results", data.get("output", {}).get("results"))
    if not isinstance(data, list):
        raise ValueError("no results")
    scores: list[float | None] = [None] * n
    for item in data:
        index = int(item["index"])
        value = item["relevance_score"] if "relevance_score" in item else item["score"]
        if not 0 <= index < n:
            raise IndexError(index)
        scores[index] = float(value)
    if any(s is None for s in scores):
        raise ValueError("not every passage was scored")
    return [float(s) for s in scores if s is not None]
