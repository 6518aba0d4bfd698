"""Builds the model, assistant and chat services of one workspace (used by the facade)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from zhiku.apps.store import AssistantStore
from zhiku.apps.types import RetrievalConfig
from zhiku.chat.accounting import CallContext, CallLog, RequestLog
from zhiku.chat.engine import ChatEngine, SearchFn
from zhiku.chat.providers import ProviderRegistry
from zhiku.chat.store import ConversationStore
from zhiku.core.errors import ProviderError
from zhiku.models.llm.metered import MeteredChatModel
from zhiku.models.llm.secrets import SecretBox
from zhiku.models.llm.types import GenerationOptions
from zhiku.moderation.service import ModerationService
from zhiku.moderation.store import ModerationStore
from zhiku.repositories import (
    AssistantRepository,
    CallRepository,
    ConversationRepository,
)
from zhiku.store.db import Database


@dataclass(slots=True)
class LLMServices:
    """Providers, assistants, conversations, the call log and the chat engine, wired together."""

    providers: ProviderRegistry
    assistants: AssistantRepository
    conversations: ConversationRepository
    calls: CallRepository
    engine: ChatEngine
    moderation: ModerationService

    @classmethod
    def build(cls, db: Database, workspace_id: int, home: Path, search: SearchFn) -> LLMServices:
        """Wire the services of workspace ``workspace_id`` on ``db``."""
        providers = ProviderRegistry(db, workspace_id, SecretBox(home))
        assistants = AssistantStore(db, workspace_id)
        conversations = ConversationStore(db, workspace_id)
        calls = CallLog(db, workspace_id)
        moderation = ModerationService(ModerationStore(db, workspace_id), providers)
        engine = ChatEngine(search, providers, assistants, conversations, calls,
                            RequestLog(db, workspace_id), moderation.moderator)
        return cls(providers, assistants, conversations, calls, engine, moderation)

    def test_provider(self, name: str, model: str | None = None) -> dict[str, object]:
        """One tiny real call: latency and reply, or the exact failure."""
        config = self.providers.get(name)
        ref = f"{name}/{model}" if model else name
        result: dict[str, object] = {"provider": name, "model": model or (config.models or [""])[0]}
        start = time.perf_counter()
        try:
            chat = MeteredChatModel(
                self.providers.model(ref), self.calls.observer(CallContext("test")),
                config.price_input, config.price_output,
            )
            reply = chat.complete(
                [{"role": "user", "content": "Reply with the single word: pong"}],
                GenerationOptions(temperature=0.0, max_tokens=8),
            )
        except ProviderError as exc:
            result.update(ok=False, error=exc.message, kind=exc.kind,
                          latency_ms=round((time.perf_counter() - start) * 1000, 1))
            return result
        result.update(ok=True, latency_ms=round(reply.latency_ms, 1), reply=reply.text[:80],
                      input_tokens=reply.usage.input_tokens,
                      output_tokens=reply.usage.output_tokens)
        return result


def retrieval_kwargs(config: RetrievalConfig) -> dict[str, object]:
    """``Zhiku.search`` keyword arguments for an assistant's retrieval settings."""
    return {"top_k": config.top_k, "fusion": config.fusion, "filters": config.filters,
            "reranker": config.reranker, "rerank_top_n": config.rerank_top_n}
