"""OpenAI-compatible endpoints: ``GET /v1/models`` lists the apps a key may chat with,
``POST /v1/chat/completions`` answers with one (``model`` = assistant slug), or with a
chat-shaped workflow (one text input) or an agent (``model`` = its slug).

Citations ride in an extra ``citations`` field (on the completion, and on the last streamed
chunk) that plain OpenAI clients ignore, beside ``refused``, ``grounded``,
``ungrounded_reason`` and ``ungrounded_action`` (what the assistant's policy did with an answer
that cites nothing: ``warn`` kept it; ``extractive``/``refuse`` replaced it before any of it was
streamed). Conversation state is the client's: the last user
message is the question, the earlier user/assistant turns are its history (follow-ups are
rewritten from them). Each request to an assistant is stored as a conversation of one turn (the
question and the answer, owned by the caller; the client's history is not stored) so that the
workspace's conversation log covers this channel, beside the accounting (model calls, usage);
with the ``store_openai_chats`` setting off only the accounting is kept. A workflow or an agent
answers the last user message alone (its run is recorded like any other): a workflow's streamed
chunks are its answer's tokens, its citations those its answer passes on. A reasoning model's
thinking streams as ``reasoning_content`` deltas (the DeepSeek convention).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from zhiku.accounts.principal import Level, Principal
from zhiku.accounts.scope import check_unrestricted
from zhiku.api.access import usable_assistants, visible_assistant
from zhiku.api.chat.mapper import ChatEvent, events, finish
from zhiku.api.deps import Caller, Service, State
from zhiku.api.schemas import ERRORS, CitationOut
from zhiku.apps.running import AppRun
from zhiku.chat.store import Owner
from zhiku.core.errors import InvalidInput, NotFound, RunFailed, ZhikuError
from zhiku.models.llm.types import Message
from zhiku.service import Zhiku

router = APIRouter(tags=["openai"], responses=ERRORS)


class ContentPart(BaseModel):
    """A part of a multi-part message (only text parts are read)."""

    model_config = ConfigDict(extra="ignore")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    """An OpenAI chat message."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "tool", "developer", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text."""
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    """``include_usage`` adds a final chunk with token counts."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class CompletionIn(BaseModel):
    """The OpenAI request. Unknown fields are ignored, not refused: OpenAI clients send
    sampling options and new fields this server does not use (the one exception to
    ``extra="forbid"``)."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=64)
    messages: list[ChatMessage] = Field(min_length=1, max_length=500)
    stream: bool = False
    stream_options: StreamOptions | None = None


class ModelOut(BaseModel):
    """An assistant, as an OpenAI model."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    """The models (assistants) a key may use."""

    object: Literal["list"] = "list"
    data: list[ModelOut]


class AssistantMessage(BaseModel):
    """The answer."""

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    """The one choice."""

    index: int = 0
    message: AssistantMessage
    finish_reason: str = "stop"


class CompletionUsage(BaseModel):
    """Token counts of the model calls behind the answer (estimated for extractive answers)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, input_tokens: int, output_tokens: int) -> CompletionUsage:
        """The counts in OpenAI's names, with their total."""
        return cls(prompt_tokens=input_tokens, completion_tokens=output_tokens,
                   total_tokens=input_tokens + output_tokens)


class CompletionOut(BaseModel):
    """An OpenAI chat completion, plus ``citations``."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage
    citations: list[CitationOut]
    refused: bool
    grounded: bool
    ungrounded_reason: Literal["no_citation", "invalid_citations"] | None
    ungrounded_action: Literal["warn", "extractive", "refuse"] | None
    moderated: bool = False


def _epoch(iso: str) -> int:
    try:
        return int(time.mktime(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return 0


@router.get("/v1/models", response_model=ModelList)
def list_models(caller: Caller, zk: Service) -> ModelList:
    """Assistants this key may chat with; for a caller not limited to some names, also the
    chat-shaped workflows and the agents."""
    owner = f"workspace-{caller.workspace_id}"
    data = [ModelOut(id=a.slug, created=_epoch(a.created_at), owned_by=owner)
            for a in usable_assistants(zk, caller)]
    if caller.kbs is None and caller.assistants is None:
        data += [ModelOut(id=a.slug, created=_epoch(a.created_at), owned_by=owner)
                 for a in zk.apps.chat_apps()]
    return ModelList(data=data)


def _question(body: CompletionIn) -> tuple[str, list[Message]]:
    turns: list[Message] = [
        {"role": "assistant" if m.role == "assistant" else "user", "content": m.text()}
        for m in body.messages if m.role in ("user", "assistant")
    ]
    if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
        raise InvalidInput("the last message must be a non-empty user message")
    return turns[-1]["content"], turns[:-1]


def _chunk(cid: str, created: int, model: str, delta: dict[str, Any], **extra: Any) -> str:
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": extra.pop("finish", None)}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _usage_chunk(cid: str, created: int, model: str, usage: CompletionUsage) -> str:
    """The last chunk when the client asked for usage: no choices, the token counts."""
    body = {"id": cid, "object": "chat.completion.chunk", "created": created,
            "model": model, "choices": [], "usage": usage.model_dump()}
    return f"data: {json.dumps(body)}\n\n"


def _error_chunk(exc: ZhikuError) -> str:
    """A failure after the stream started, in OpenAI's error shape."""
    return f"data: {json.dumps({'error': {'type': exc.kind, 'message': exc.message}})}\n\n"


def _stream(
    events: Iterator[ChatEvent], cid: str, created: int, model: str, include_usage: bool
) -> Iterator[str]:
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    try:
        for event in events:
            if event.result is None:
                if event.reasoning:
                    yield _chunk(cid, created, model, {"reasoning_content": event.reasoning})
                else:
                    yield _chunk(cid, created, model, {"content": event.token})
                continue
            r = event.result
            cites = [CitationOut(**c).model_dump() for c in r.citations]
            yield _chunk(cid, created, model, {}, finish="stop", citations=cites,
                         refused=r.refused, grounded=r.grounded,
                         ungrounded_reason=r.ungrounded_reason,
                         ungrounded_action=r.ungrounded_action, moderated=r.moderated)
            if include_usage:
                yield _usage_chunk(cid, created, model, CompletionUsage.of(
                    r.usage.input_tokens, r.usage.output_tokens))
    except ZhikuError as exc:
        yield _error_chunk(exc)
    yield "data: [DONE]\n\n"


@router.post(
    "/v1/chat/completions",
    response_model=CompletionOut,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def chat_completions(
    body: CompletionIn, caller: Caller, zk: Service, state: State
) -> CompletionOut | StreamingResponse:
    """Answer the last user message with the assistant named by ``model``, or with the
    workflow or agent of that slug (a workflow must be chat-shaped: one text input)."""
    try:
        kind = zk.apps.kind(body.model)
    except NotFound:
        kind = "assistant"  # the assistant checks say what is wrong
    if kind != "assistant":
        return _app_completion(zk, caller, body)
    assistant = visible_assistant(zk, caller, body.model)
    question, history = _question(body)
    stream = zk.chat(assistant.slug, question, stream=True, history=history,
                     store=state.settings.store_openai_chats,
                     owner=Owner(user_id=caller.user_id, key_id=caller.key_id),
                     endpoint="openai")
    answer = events(stream)
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            _stream(answer, cid, created, body.model, include),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )
    result = finish(answer)
    u = result.usage
    return CompletionOut(
        id=cid,
        created=created,
        model=body.model,
        choices=[Choice(message=AssistantMessage(content=result.answer))],
        usage=CompletionUsage.of(u.input_tokens, u.output_tokens),
        citations=[CitationOut(**c) for c in result.citations],
        refused=result.refused,
        grounded=result.grounded,
        ungrounded_reason=result.ungrounded_reason,
        ungrounded_action=result.ungrounded_action,
        moderated=result.moderated,
    )


def _app_cites(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An app's citations in the wire form (ones of another shape, which a workflow may pass
    on, are left out)."""
    out = []
    for c in citations:
        try:
            out.append(CitationOut(**c).model_dump())
        except (TypeError, ValueError):
            continue
    return out


def _app_stream(run: AppRun, cid: str, created: int, model: str, include_usage: bool
                ) -> Iterator[str]:
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    streamed = False
    try:
        for event in run:
            if event.type == "token" and event.data.get("text"):
                streamed = True
                yield _chunk(cid, created, model, {"content": event.data["text"]})
            elif event.type == "reasoning" and event.data.get("text"):
                yield _chunk(cid, created, model, {"reasoning_content": event.data["text"]})
            elif event.result is not None:
                r = event.result
                if r.status != "succeeded":
                    raise RunFailed(r.error or f"the run ended {r.status}")
                if not streamed and r.output:
                    yield _chunk(cid, created, model, {"content": r.output})
                yield _chunk(cid, created, model, {}, finish="stop",
                             citations=_app_cites(r.citations), refused=r.refused,
                             grounded=r.grounded, ungrounded_reason=None,
                             ungrounded_action=None)
                if include_usage:
                    yield _usage_chunk(cid, created, model,
                                       CompletionUsage.of(r.input_tokens, r.output_tokens))
    except ZhikuError as exc:
        yield _error_chunk(exc)
    yield "data: [DONE]\n\n"


def _app_completion(zk: Zhiku, caller: Principal, body: CompletionIn
                    ) -> CompletionOut | StreamingResponse:
    """A completion by the workflow or agent ``body.model``: the last user message is the
    agent's message or the workflow's one text input."""
    check_unrestricted(caller, Level.READ)
    name = zk.apps.chat_input(body.model)
    question, _ = _question(body)
    inputs = {name or "query": question}
    run = zk.apps.stream(body.model, inputs, owner=Owner(user_id=caller.user_id,
                                                          key_id=caller.key_id),
                         endpoint="openai")
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(_app_stream(run, cid, created, body.model, include),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    r = run.finish()
    if r.status != "succeeded":
        raise RunFailed(r.error or f"the run ended {r.status}")
    return CompletionOut(
        id=cid, created=created, model=body.model,
        choices=[Choice(message=AssistantMessage(content=r.output))],
        usage=CompletionUsage.of(r.input_tokens, r.output_tokens),
        citations=[CitationOut(**c) for c in _app_cites(r.citations)],
        refused=r.refused, grounded=r.grounded, ungrounded_reason=None,
        ungrounded_action=None,
    )
