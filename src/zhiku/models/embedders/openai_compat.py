"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` server (bge-m3 on Ollama/vLLM/TEI,
DashScope, SiliconFlow, ...)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np

from zhiku.core.errors import InvalidInput, ProviderError
from zhiku.core.settings import Settings
from zhiku.models.embedders.base import l2_normalize


class OpenAIEmbedder:
    """Calls ``POST {base_url}/embeddings``; the dimension is learned from the first reply.
    The model behind the endpoint is unknown, so it is not taken to be multilingual."""

    multilingual = False

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.model_id = f"openai:{model}"
        self._model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                    transport=transport)
        self.dim = len(self.embed_batch(["dimension probe"])[0])

    @classmethod
    def from_settings(cls, settings: Settings, model: str) -> OpenAIEmbedder:
        """Build from ``ZHIKU_OPENAI_EMBED_*`` settings."""
        if not settings.openai_embed_base_url:
            raise InvalidInput(
                "set ZHIKU_OPENAI_EMBED_BASE_URL to use an OpenAI-compatible embedder"
            )
        return cls(settings.openai_embed_base_url, model, settings.openai_embed_api_key)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch of texts (retrying once on a transport error)."""
        payload = {"model": self._model, "input": list(texts)}
        for attempt in range(3):
            try:
                response = self._client.post("/embeddings", json=payload)
            except httpx.TransportError as exc:
                if attempt == 2:
                    raise ProviderError(f"embeddings server unreachable: {exc}") from exc
                continue
            if response.status_code >= 500 and attempt < 2:
                continue
            if response.status_code != 200:
                raise ProviderError(
                    f"embeddings server answered {response.status_code}: {response.text[:200]}"
                )
            break
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            matrix = np.array([item["embedding"] for item in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError("embeddings server sent a malformed reply") from exc
        if matrix.shape[0] != len(texts):
            raise ProviderError("embeddings server returned the wrong number of vectors")
        return l2_normalize(matrix)
