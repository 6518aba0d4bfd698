"""Chat with an assistant (streaming or not) and the stored conversations and messages."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Principal
from zhiku.api.chat.access import refusal
from zhiku.api.chat.types import ChatEvent, ChatRequest, ChatResult
from zhiku.api.deps import Caller, State
from zhiku.api.routers.assistants import may_use, visible_assistant
from zhiku.api.routers.jobs import sse
from zhiku.api.schemas import ERRORS, MAX_ID, Deleted, Id, Request
from zhiku.core.errors import Forbidden, ZhikuError

router = APIRouter(tags=["chat"], responses=ERRORS)
log = logging.getLogger(__name__)


class ChatIn(Request):
    """A user message; without ``conversation_id`` a new conversation starts."""

    message: str = Field(min_length=1, max_length=20_000)
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    stream: bool = False


class CitationOut(BaseModel):
    """Where a statement of the answer comes from."""

    n: int
    document_id: int
    chunk_id: int
    title: str | None
    source: str
    location: str
    page: int | None
    heading_path: list[str]
    score: float
    text: str
    quote: str


class UsageOut(BaseModel):
    """Tokens, cost and time of one answer."""

    input_tokens: int
    output_tokens: int
    cost: float
    latency_ms: float


class ChatOut(BaseModel):
    """An answer with its citations. ``flagged``: no valid citation survived verification;
    ``model``: the provider/model that answered (``extractive`` without an LLM).
    ``grounded``: the answer makes no claim without a valid citation; otherwise
    ``ungrounded_reason`` says why and ``ungrounded_action`` what the assistant's policy did
    (``warn``: kept; ``extractive``/``refuse``: replaced)."""

    conversation_id: int | None
    message_id: int | None
    answer: str
    refused: bool
    flagged: bool
    model: str
    grounded: bool = True
    ungrounded_reason: Literal["no_citation", "invalid_citations"] | None = None
    ungrounded_action: Literal["warn", "extractive", "refuse"] | None = None
    citations: list[CitationOut]
    usage: UsageOut


class ConversationOut(BaseModel):
    """A stored conversation; ``user_id``/``key_id``: the user or API key that started it
    (both null: started from the CLI or the Python API)."""

    id: int
    assistant: str | None
    title: str | None
    user_id: int | None
    key_id: int | None
    created_at: str
    updated_at: str


class MessageOut(BaseModel):
    """A stored message (``reasoning``: a reasoning model's thinking, kept apart)."""

    id: int
    role: str
    content: str
    reasoning: str
    citations: list[dict[str, Any]]
    metadata: dict[str, Any]
    created_at: str


def chat_out(result: ChatResult) -> ChatOut:
    """Wire form of a finished answer."""
    return ChatOut(
        conversation_id=result.conversation_id,
        message_id=result.message_id,
        answer=result.answer,
        refused=result.refused,
        flagged=result.flagged,
        model=result.model,
        grounded=result.grounded,
        ungrounded_reason=result.ungrounded_reason,
        ungrounded_action=result.ungrounded_action,
        citations=[CitationOut(**c) for c in result.citations],
        usage=UsageOut(
            input_tokens=result.usage.input_tokens,
            output_tokens=result.usage.output_tokens,
            cost=result.usage.cost,
            latency_ms=result.usage.latency_ms,
        ),
    )


def started(events: Iterator[ChatEvent]) -> Iterator[ChatEvent]:
    """Run the chat up to its first event, so set-up errors become plain HTTP errors."""
    first = next(events)
    return itertools.chain([first], events)


def finish(events: Iterator[ChatEvent]) -> ChatResult:
    """Drain a chat to its result."""
    for event in events:
        if event.result is not None:
            return event.result
    raise RuntimeError("the chat ended without a result")


def _sse_chat(events: Iterator[ChatEvent]) -> Iterator[str]:
    try:
        for event in events:
            if event.result is None:
                if event.reasoning:
                    yield sse("reasoning", {"text": event.reasoning})
                else:
                    yield sse("token", {"text": event.token})
                continue
            out = chat_out(event.result)
            yield sse("citations", [c.model_dump() for c in out.citations])
            yield sse("usage", out.usage.model_dump())
            yield sse(
                "done",
                {
                    "conversation_id": out.conversation_id,
                    "message_id": out.message_id,
                    "refused": out.refused,
                    "flagged": out.flagged,
                    "grounded": out.grounded,
                    "ungrounded_reason": out.ungrounded_reason,
                    "ungrounded_action": out.ungrounded_action,
                    "answer": out.answer,
                },
            )
    except ZhikuError as exc:
        yield sse("error", {"type": exc.kind, "message": exc.message})
    except Exception:
        log.exception("chat stream failed")
        yield sse("error", {"type": "internal_error", "message": "internal server error"})


@router.post(
    "/v1/assistants/{slug}/chat",
    response_model=ChatOut,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def chat(slug: str, body: ChatIn, caller: Caller, state: State) -> ChatOut | StreamingResponse:
    """Ask an assistant. ``stream``: server-sent events ``token``… (and ``reasoning``… from
    reasoning models), ``citations``, ``usage``, ``done`` (or ``error``). A new conversation
    belongs to the caller; one continued must be the caller's (or an admin's to see), and
    started with this assistant (400 otherwise: start a new one)."""
    visible_assistant(state, caller, slug)
    if body.conversation_id is not None:
        visible_conversation(state, caller, body.conversation_id)
    request = ChatRequest(
        workspace_id=caller.workspace_id,
        assistant=slug,
        message=body.message,
        conversation_id=body.conversation_id,
        key_id=caller.key_id,
        user_id=caller.user_id,
    )
    events = started(state.chat.chat(request))
    if body.stream:
        return StreamingResponse(
            _sse_chat(events), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )
    return chat_out(finish(events))


def _refusal(
    state: State, caller: Principal, conv: dict[str, Any], usable: set[str]
) -> str | None:
    return refusal(
        caller, conv, conv["assistant"] in usable,
        lambda: state.chat.cited_kbs(caller.workspace_id, conv["id"]),
    )


def visible_conversation(state: State, caller: Principal, conversation_id: int) -> dict[str, Any]:
    """A conversation the caller may read, continue, rate and delete (``Forbidden`` or
    ``NotFound`` otherwise)."""
    conv = state.chat.conversation(caller.workspace_id, conversation_id)
    slug = conv["assistant"]
    usable = set()
    if slug is not None and may_use(caller, state.chat.assistant(caller.workspace_id, slug)):
        usable = {slug}
    reason = _refusal(state, caller, conv, usable)
    if reason is not None:
        raise Forbidden(reason)
    return conv


@router.get("/v1/conversations", response_model=list[ConversationOut])
def list_conversations(
    caller: Caller, state: State, assistant: str | None = None
) -> list[ConversationOut]:
    """Conversations the caller may read, newest first: its own, and for admins every one
    their scope reaches."""
    if assistant is not None:
        visible_assistant(state, caller, assistant)
    rows = state.chat.conversations(caller.workspace_id, assistant)
    usable = {a.slug for a in state.chat.list_assistants(caller.workspace_id)
              if may_use(caller, a)}
    return [ConversationOut(**r) for r in rows if _refusal(state, caller, r, usable) is None]


@router.get("/v1/conversations/{conversation_id}", response_model=ConversationOut)
def get_conversation(conversation_id: Id, caller: Caller, state: State) -> ConversationOut:
    """One conversation."""
    return ConversationOut(**visible_conversation(state, caller, conversation_id))


@router.get("/v1/conversations/{conversation_id}/messages", response_model=list[MessageOut])
def list_messages(conversation_id: Id, caller: Caller, state: State) -> list[MessageOut]:
    """The messages of a conversation, oldest first, answers with their citations."""
    visible_conversation(state, caller, conversation_id)
    return [MessageOut(**m) for m in state.chat.messages(caller.workspace_id, conversation_id)]


@router.delete("/v1/conversations/{conversation_id}", response_model=Deleted)
def delete_conversation(conversation_id: Id, caller: Caller, state: State) -> Deleted:
    """Delete a conversation and its messages: its owner may, whatever its access level, and
    so may an admin; nobody else."""
    visible_conversation(state, caller, conversation_id)
    state.chat.delete_conversation(caller.workspace_id, conversation_id)
    return Deleted()
