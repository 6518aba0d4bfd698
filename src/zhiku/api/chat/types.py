"""The chat seam: what the routers need from assistants, conversations and answering.

Assistants are issue 3's (``zhiku.apps``: ``AssistantConfig`` with ``model`` = provider/model,
or none for extractive answers, and nested retrieval settings); ``EngineChat``
(``zhiku.api.chat.backend``) implements the seam over issue 3's chat engine and stores, so the
HTTP API, the CLI and the Python API share one model of assistants and conversations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from zhiku.answer.types import UngroundedPolicy, UngroundedReason
from zhiku.apps.types import Assistant, AssistantConfig

__all__ = [
    "Assistant",
    "AssistantConfig",
    "ChatBackend",
    "ChatEvent",
    "ChatRequest",
    "ChatResult",
    "Turn",
    "Usage",
]


@dataclass(slots=True)
class Usage:
    """Tokens and cost of the model calls of one answer, and the time the answer took."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    latency_ms: float = 0.0


@dataclass(slots=True)
class ChatResult:
    """The end of an answer: what was said, with citations, usage and where it was stored."""

    answer: str
    refused: bool
    citations: list[dict[str, Any]]
    usage: Usage
    conversation_id: int | None = None
    message_id: int | None = None
    flagged: bool = False
    model: str = ""
    grounded: bool = True
    ungrounded_reason: UngroundedReason | None = None
    ungrounded_action: UngroundedPolicy | None = None


@dataclass(slots=True)
class ChatEvent:
    """One streamed event: a piece of the answer (``token``), of the model's reasoning
    (``reasoning``), or the end (``result``)."""

    token: str = ""
    reasoning: str = ""
    result: ChatResult | None = None


@dataclass(slots=True)
class Turn:
    """A message of a conversation given by the caller (OpenAI-style history)."""

    role: str
    content: str


@dataclass(slots=True)
class ChatRequest:
    """What to answer and where to store it (``history`` only without a stored conversation).
    ``key_id``/``user_id``: who asks; a conversation this request starts belongs to them."""

    workspace_id: int
    assistant: str
    message: str
    conversation_id: int | None = None
    history: list[Turn] | None = None
    store: bool = True
    key_id: int | None = None
    user_id: int | None = None
    endpoint: str = "chat"


class ChatBackend(Protocol):
    """Assistants, conversations, answers, feedback and usage of a workspace."""

    def list_assistants(self, workspace_id: int) -> list[Assistant]:
        """Every assistant of the workspace."""
        ...

    def assistant(self, workspace_id: int, slug: str) -> Assistant:
        """One assistant, by slug, or ``NotFound``."""
        ...

    def create_assistant(
        self, workspace_id: int, slug: str, name: str, config: AssistantConfig
    ) -> Assistant:
        """A new assistant with ``config`` as its draft."""
        ...

    def update_assistant(
        self, workspace_id: int, slug: str, name: str | None, config: AssistantConfig | None
    ) -> Assistant:
        """Rename and/or replace the draft."""
        ...

    def delete_assistant(self, workspace_id: int, slug: str) -> None:
        """Delete an assistant (its conversations stay, detached)."""
        ...

    def versions(self, workspace_id: int, slug: str) -> list[dict[str, Any]]:
        """Published versions, newest first."""
        ...

    def publish(self, workspace_id: int, slug: str, note: str) -> Assistant:
        """Freeze the draft as the next version."""
        ...

    def chat(self, request: ChatRequest) -> Iterator[ChatEvent]:
        """Answer, streaming tokens, ending with one ``result`` event."""
        ...

    def conversations(self, workspace_id: int, assistant: str | None) -> list[dict[str, Any]]:
        """Conversations (with their assistant slug and owner's ``user_id``/``key_id``), newest
        first."""
        ...

    def conversation(self, workspace_id: int, conversation_id: int) -> dict[str, Any]:
        """A conversation (with its assistant slug), or ``NotFound``."""
        ...

    def messages(self, workspace_id: int, conversation_id: int) -> list[dict[str, Any]]:
        """The messages of a conversation, oldest first."""
        ...

    def delete_conversation(self, workspace_id: int, conversation_id: int) -> None:
        """Delete a conversation and its messages."""
        ...

    def message_conversation(self, workspace_id: int, message_id: int) -> int:
        """The conversation an answer belongs to (``NotFound`` for other workspaces)."""
        ...

    def cited_kbs(self, workspace_id: int, conversation_id: int) -> set[str | None]:
        """The knowledge bases its answers cite (None: a cited document since deleted)."""
        ...

    def add_feedback(
        self,
        workspace_id: int,
        message_id: int,
        rating: int,
        comment: str,
        corrected_answer: str | None,
    ) -> dict[str, Any]:
        """Thumbs up (1) or down (-1) or neutral (0) on an answer."""
        ...

    def feedback(self, workspace_id: int, assistant: str | None) -> list[dict[str, Any]]:
        """Answers with feedback (the latest verdict on each), newest first."""
        ...

    def usage(
        self, workspace_id: int, group_by: str, since: str | None
    ) -> list[dict[str, Any]]:
        """Tokens, cost, latency and count of answers grouped by assistant, key or day."""
        ...
