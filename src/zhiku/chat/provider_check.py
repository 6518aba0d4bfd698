"""One minimal real call to a stored provider: its latency, or the exact failure with the key
masked. A chat provider answers a one-word prompt, an embedder embeds one short text, a
reranker scores two passages."""

from __future__ import annotations

import time
from typing import Any

from zhiku.chat.accounting import CallContext
from zhiku.chat.providers import ProviderRegistry
from zhiku.core.errors import InvalidInput, ProviderError
from zhiku.models.llm.config import ProviderConfig
from zhiku.models.llm.metered import MeteredChatModel
from zhiku.models.llm.secrets import mask
from zhiku.models.llm.types import GenerationOptions
from zhiku.repositories import CallRepository


def check_provider(
    providers: ProviderRegistry, calls: CallRepository, name: str, model: str | None = None
) -> dict[str, Any]:
    """Call provider ``name`` once (``model``, or its first); never raises for a failed call:
    ``ok`` is False and ``error`` holds the provider's message."""
    config = providers.get(name)
    ref = f"{name}/{model}" if model else name
    result: dict[str, Any] = {"provider": name, "provider_kind": config.kind,
                              "model": model or (config.models or [""])[0]}
    start = time.perf_counter()
    try:
        if config.kind == "embedding":
            result.update(_embed(providers, ref))
        elif config.kind == "rerank":
            result.update(_rerank(providers, ref))
        else:
            result.update(_chat(providers, calls, config, ref))
    except (ProviderError, InvalidInput) as exc:
        result.update(ok=False, error=_scrub(exc.message, providers.api_key(config)),
                      kind=exc.kind, latency_ms=_ms(start))
        return result
    result.setdefault("latency_ms", _ms(start))
    result["ok"] = True
    return result


def _chat(providers: ProviderRegistry, calls: CallRepository, config: ProviderConfig,
          ref: str) -> dict[str, Any]:
    chat = MeteredChatModel(providers.model(ref), calls.observer(CallContext("test")),
                            config.price_input, config.price_output)
    reply = chat.complete([{"role": "user", "content": "Reply with the single word: pong"}],
                          GenerationOptions(temperature=0.0, max_tokens=8))
    return {"latency_ms": round(reply.latency_ms, 1), "reply": reply.text[:80],
            "input_tokens": reply.usage.input_tokens, "output_tokens": reply.usage.output_tokens}


def _embed(providers: ProviderRegistry, ref: str) -> dict[str, Any]:
    embedder = providers.new_embedder(ref)  # made with one call, which learns the dimension
    embedder.close()
    return {"dim": embedder.dim}


def _rerank(providers: ProviderRegistry, ref: str) -> dict[str, Any]:
    scores = providers.reranker(ref).scores("ping", ["pong", "ping"])
    return {"scores": [round(s, 4) for s in scores]}


def _scrub(message: str, key: str | None) -> str:
    """The message with the key (should a server echo it) replaced by its masked form."""
    return message.replace(key, mask(key)) if key else message


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
