"""Chat with an assistant (streaming or not) and the stored conversations and messages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level
from zhiku.api.access import (
    conversation_out,
    refusal,
    slugs,
    usable_assistants,
    visible_assistant,
    visible_conversation,
)
from zhiku.api.chat.mapper import ChatEvent, ChatResult, events, finish
from zhiku.api.deps import Caller, Service
from zhiku.api.mirror import Mirror
from zhiku.api.schemas import ERRORS, MAX_ID, CitationOut, Deleted, Id, Request
from zhiku.api.sse import sse
from zhiku.chat.accounting import TurnUsage
from zhiku.chat.store import Owner
from zhiku.core.errors import ZhikuError
from zhiku.evals.feedback import RatingName, conversation_ratings

router = APIRouter(tags=["chat"], responses=ERRORS)
log = logging.getLogger(__name__)


class ChatIn(Request):
    """A user message; without ``conversation_id`` a new conversation starts."""

    message: str = Field(min_length=1, max_length=20_000)
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    stream: bool = False
    draft: bool = Field(
        default=False,
        description="Answer with the draft configuration instead of the published version "
        "(a preview of unpublished changes; needs write access to the assistant).",
    )


class UsageOut(Mirror, source=TurnUsage):
    """Tokens, cost and time of one answer."""


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
    moderated: bool = Field(False, description="the workspace's moderation policy replaced "
                            "the answer with its reply")
    citations: list[CitationOut]
    usage: UsageOut


class ConversationOut(BaseModel):
    """A stored conversation; ``user_id``/``key_id``: the user or API key that started it
    (both null: started from the CLI, the Python API or a share link). ``channel``: ``share``
    (a share link's page) or ``widget`` (embedded), with ``share_link_id`` and the
    ``external_user`` (and ``external_name``) of a signed identity; null for the API and the
    console."""

    id: int
    assistant: str | None
    title: str | None
    user_id: int | None
    key_id: int | None
    channel: str | None = None
    share_link_id: int | None = None
    external_user: str | None = None
    external_name: str | None = None
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
    feedback: RatingName | None = None  # the latest rating of an answer


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
        moderated=result.moderated,
        citations=[CitationOut(**c) for c in result.citations],
        usage=UsageOut(
            input_tokens=result.usage.input_tokens,
            output_tokens=result.usage.output_tokens,
            cost=result.usage.cost,
            latency_ms=result.usage.latency_ms,
        ),
    )


def sse_chat(events: Iterator[ChatEvent]) -> Iterator[str]:
    """A chat's events as server-sent events (the assistant chat and share links' chat)."""
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
def chat(slug: str, body: ChatIn, caller: Caller, zk: Service) -> ChatOut | StreamingResponse:
    """Ask an assistant. ``stream``: server-sent events ``token``… (and ``reasoning``… from
    reasoning models), ``citations``, ``usage``, ``done`` (or ``error``). A new conversation
    belongs to the caller; one continued must be the caller's (or an admin's to see), and
    started with this assistant (400 otherwise: start a new one). ``draft`` previews the
    draft (editors only)."""
    assistant = visible_assistant(zk, caller, slug, Level.WRITE if body.draft else Level.READ)
    if body.conversation_id is not None:
        visible_conversation(zk, caller, body.conversation_id)
    stream = zk.chat(assistant.slug, body.message, body.conversation_id, stream=True,
                     owner=Owner(user_id=caller.user_id, key_id=caller.key_id), endpoint="chat",
                     draft=body.draft)
    answer = events(stream)
    if body.stream:
        return StreamingResponse(
            sse_chat(answer), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )
    return chat_out(finish(answer))


@router.get("/v1/conversations", response_model=list[ConversationOut])
def list_conversations(
    caller: Caller, zk: Service, assistant: str | None = None,
    channel: Literal["api", "share", "widget"] | None = None,
) -> list[ConversationOut]:
    """Conversations the caller may read, newest first: its own, and for admins every one
    their scope reaches. ``channel``: only those of the API and console (``api``), of share
    links' pages (``share``) or of embedded widgets (``widget``)."""
    if assistant is not None:
        visible_assistant(zk, caller, assistant)
    by_id = slugs(zk)
    usable = {a.slug for a in usable_assistants(zk, caller)}
    out = []
    for row in zk.list_conversations(assistant):
        if channel is not None and (row.get("channel") or "api") != channel:
            continue
        conv = conversation_out(row, by_id)
        reason = refusal(caller, conv, conv["assistant"] in usable,
                         partial(zk.llm.conversations.cited_kbs, conv["id"]))
        if reason is None:
            out.append(ConversationOut(**conv))
    return out


@router.get("/v1/conversations/{conversation_id}", response_model=ConversationOut)
def get_conversation(conversation_id: Id, caller: Caller, zk: Service) -> ConversationOut:
    """One conversation."""
    return ConversationOut(**visible_conversation(zk, caller, conversation_id))


@router.get("/v1/conversations/{conversation_id}/messages", response_model=list[MessageOut])
def list_messages(conversation_id: Id, caller: Caller, zk: Service) -> list[MessageOut]:
    """The messages of a conversation, oldest first, answers with their citations."""
    visible_conversation(zk, caller, conversation_id)
    ratings = conversation_ratings(zk, conversation_id)
    return [MessageOut(**m.to_dict(), feedback=ratings.get(m.id))
            for m in zk.conversation(conversation_id)]


@router.delete("/v1/conversations/{conversation_id}", response_model=Deleted)
def delete_conversation(conversation_id: Id, caller: Caller, zk: Service) -> Deleted:
    """Delete a conversation and its messages: its owner may, whatever its access level, and
    so may an admin; nobody else."""
    visible_conversation(zk, caller, conversation_id)
    zk.delete_conversation(conversation_id)
    return Deleted()
