"""Builds the model, assistant and chat services of one workspace (used by the facade)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zhiku.apps.store import AssistantStore
from zhiku.apps.types import RetrievalConfig
from zhiku.chat.accounting import CallLog, RequestLog
from zhiku.chat.engine import ChatEngine, SearchFn
from zhiku.chat.providers import ProviderRegistry
from zhiku.chat.store import ConversationStore
from zhiku.models.llm.secrets import SecretBox
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
    def build(cls, db: Database, workspace_id: int, home: Path, search: SearchFn,
              url_allowlist: Sequence[str] = ()) -> LLMServices:
        """Wire the services of workspace ``workspace_id`` on ``db`` (``url_allowlist``: the
        internal addresses a provider configured over HTTP may still reach)."""
        from zhiku.ingest.fetch import UrlPolicy

        providers = ProviderRegistry(db, workspace_id, SecretBox(home), UrlPolicy(url_allowlist))
        assistants = AssistantStore(db, workspace_id)
        conversations = ConversationStore(db, workspace_id)
        calls = CallLog(db, workspace_id)
        moderation = ModerationService(ModerationStore(db, workspace_id), providers)
        engine = ChatEngine(search, providers, assistants, conversations, calls,
                            RequestLog(db, workspace_id), moderation.moderator)
        return cls(providers, assistants, conversations, calls, engine, moderation)

    def test_provider(self, name: str, model: str | None = None) -> dict[str, object]:
        """One minimal real call: latency, or the exact failure (see ``provider_check``)."""
        from zhiku.chat.provider_check import check_provider

        return check_provider(self.providers, self.calls, name, model)


def retrieval_kwargs(config: RetrievalConfig) -> dict[str, object]:
    """``Zhiku.search`` keyword arguments for an assistant's retrieval settings."""
    return {"top_k": config.top_k, "fusion": config.fusion, "filters": config.filters,
            "reranker": config.reranker, "rerank_top_n": config.rerank_top_n}
