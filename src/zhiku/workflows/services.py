"""What nodes need from the rest of Zhiku, as one small protocol, and its facade-backed form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from zhiku.models.llm.types import CallRecord, ChatModel
from zhiku.retrieval.types import Hit
from zhiku.workflows.tools import ToolRegistry, builtin_tools

if TYPE_CHECKING:
    from zhiku.ingest.fetch import UrlPolicy
    from zhiku.service import Zhiku


class Services(Protocol):
    """Retrieval, metered models, the URL guard and the tools, for nodes to call."""

    tools: ToolRegistry

    def search(self, kbs: list[str], query: str, **options: Any) -> list[Hit]:
        """``Zhiku.search`` over ``kbs``."""
        ...

    def chat_model(self, ref: str, sink: list[CallRecord]) -> ChatModel:
        """The model ``provider/model``, metered into the call log and into ``sink``."""
        ...

    def url_policy(self) -> UrlPolicy:
        """Which addresses HTTP nodes may reach."""
        ...


class ZhikuServices:
    """``Services`` over a facade: its search, its providers and call log, its settings."""

    def __init__(self, zk: Zhiku, tools: ToolRegistry | None = None,
                 purpose: str = "workflow") -> None:
        self._zk = zk
        self.tools = tools or builtin_tools()
        self._purpose = purpose

    def search(self, kbs: list[str], query: str, **options: Any) -> list[Hit]:
        """Hybrid (or chosen mode) search through the facade."""
        return self._zk.search(kbs, query, **options)

    def chat_model(self, ref: str, sink: list[CallRecord]) -> ChatModel:
        """The provider's model wrapped in the metered model the assistants use."""
        from zhiku.chat.accounting import CallContext
        from zhiku.models.llm.metered import MeteredChatModel

        llm = self._zk.llm
        config = llm.providers.config_for(ref)
        observer = llm.calls.observer(CallContext(self._purpose, sink=sink))
        return MeteredChatModel(llm.providers.model(ref), observer, config.price_input,
                                config.price_output)

    def url_policy(self) -> UrlPolicy:
        """The allow-list that URL ingestion uses (``api_url_allowlist``)."""
        from zhiku.ingest.fetch import UrlPolicy

        return UrlPolicy(self._zk.settings.api_url_allowlist)
