"""A provider's configuration as stored: where it is, how to authenticate, what it costs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from zhiku.models.llm.types import cost_per_million

Kind = Literal["openai", "llama-cpp", "rerank", "embedding"]
"""``openai``: an OpenAI-compatible chat API; ``llama-cpp``: an in-process GGUF model;
``rerank``: a reranker speaking ``POST /rerank`` (see ``zhiku.models.rerank``);
``embedding``: an OpenAI-compatible ``POST /embeddings`` server."""
CHAT_KINDS: frozenset[str] = frozenset({"openai", "llama-cpp"})


class ProviderConfig(BaseModel):
    """One provider. The API key itself is never part of this object (see ``secrets``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Kind = "openai"
    base_url: str = ""
    api_key_env: str | None = Field(
        default=None, description="Environment variable holding the key (read when calling)."
    )
    has_stored_key: bool = False
    models: list[str] = Field(default_factory=list)
    model_path: str | None = Field(default=None, description="GGUF file (kind llama-cpp).")
    context_window: int = Field(default=8192, ge=256)
    price_input: float = Field(default=0.0, ge=0, description="Price per million input tokens.")
    price_output: float = Field(default=0.0, ge=0, description="Price per million output tokens.")
    currency: str = "CNY"
    timeout: float = Field(default=60.0, gt=0, description="Seconds to connect and per read.")
    max_retries: int = Field(default=2, ge=0, le=10)
    token_safety: float = Field(
        default=1.3, ge=1.0, description="Multiplier on estimated token counts (no tokenizer)."
    )
    rerank_protocol: Literal["tei", "documents"] = Field(
        default="documents",
        description="Kind rerank: 'tei' ({query, texts}) or 'documents' ({model, query, "
        "documents, top_n}: Jina, SiliconFlow, vLLM, Cohere-style).",
    )
    default_model: str | None = Field(
        default=None,
        description="Set on the one provider whose model is the workspace's default chat model "
        "(used by new assistants that name none).",
    )
    url_guard: bool = Field(
        default=False,
        description="Configured over HTTP: every call connects only to an address the URL "
        "guard allows (ZHIKU_API_URL_ALLOWLIST), the one it checked.",
    )
    tokenize_path: str | None = Field(
        default=None,
        description="Tokenizer endpoint used once to calibrate token estimates, e.g. "
        "/extras/tokenize (llama-cpp-python server) or /tokenize (llama.cpp server).",
    )

    @property
    def is_chat(self) -> bool:
        """Whether the provider answers chat calls (not a reranker or an embedder)."""
        return self.kind in CHAT_KINDS

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """Cost of a call from the per-million prices."""
        return cost_per_million(input_tokens, output_tokens, self.price_input, self.price_output)
