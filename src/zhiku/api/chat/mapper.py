"""The chat endpoints' view of a turn: the facade's event stream as answer pieces, reasoning
pieces and one final result (with the turn's usage and where it was stored)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from zhiku.answer.grounded import GroundedAnswer
from zhiku.answer.types import UngroundedPolicy, UngroundedReason
from zhiku.apps.running import AppResult, AppRun
from zhiku.chat.accounting import TurnUsage
from zhiku.chat.engine import ChatStream
from zhiku.core.errors import RunFailed
from zhiku.evals.feedback import LoggedAnswer


@dataclass(slots=True)
class ChatResult:
    """The end of an answer: what was said, with citations, usage and where it was stored."""

    answer: str
    refused: bool
    citations: list[dict[str, Any]]
    usage: TurnUsage
    conversation_id: int | None = None
    message_id: int | None = None
    flagged: bool = False
    model: str = ""
    grounded: bool = True
    ungrounded_reason: UngroundedReason | None = None
    ungrounded_action: UngroundedPolicy | None = None
    moderated: bool = False


@dataclass(slots=True)
class ChatEvent:
    """One streamed event: a piece of the answer (``token``), of the model's reasoning
    (``reasoning``), or the end (``result``)."""

    token: str = ""
    reasoning: str = ""
    result: ChatResult | None = None


def events(stream: ChatStream) -> Iterator[ChatEvent]:
    """The turn's events, run up to the first one so that set-up errors (an unknown
    conversation, a provider that refuses at once) surface as plain HTTP errors."""
    mapped = _mapped(stream)
    first = next(mapped)
    return itertools.chain([first], mapped)


def _mapped(stream: ChatStream) -> Iterator[ChatEvent]:
    events = stream.__iter__()
    try:
        for event in events:
            if event.kind == "token":
                yield ChatEvent(token=event.text)
            elif event.kind == "reasoning":
                yield ChatEvent(reasoning=event.text)
            elif event.answer is not None:
                assert stream.usage is not None  # set as the answer arrives
                yield ChatEvent(result=_result(event.answer, stream))
    finally:  # a client gone mid-stream: the engine removes what it began
        events.close()


def app_events(run: AppRun) -> Iterator[ChatEvent]:
    """A run of an app of any kind as a chat's events (answer pieces, reasoning, the result),
    run up to the first one like ``events``; a run that fails ends in ``RunFailed``."""
    mapped = _app_mapped(run)
    first = next(mapped)
    return itertools.chain([first], mapped)


def _app_mapped(run: AppRun) -> Iterator[ChatEvent]:
    inner = iter(run)
    try:
        for event in inner:
            if event.type == "token" and event.data.get("text"):
                yield ChatEvent(token=str(event.data["text"]))
            elif event.type == "reasoning" and event.data.get("text"):
                yield ChatEvent(reasoning=str(event.data["text"]))
            elif event.result is not None:
                yield ChatEvent(result=_app_result(event.result))
    finally:  # a client gone mid-stream: the run is cancelled
        close = getattr(inner, "close", None)
        if close is not None:
            close()


def _app_result(r: AppResult) -> ChatResult:
    if r.status != "succeeded":
        raise RunFailed(r.error or f"the run ended {r.status}")
    conversation = r.detail.get("conversation_id")
    return ChatResult(
        answer=r.output, refused=r.refused, citations=r.citations,
        usage=TurnUsage(r.input_tokens, r.output_tokens, round(r.cost, 8),
                        round(r.latency_ms, 3)),
        conversation_id=conversation if isinstance(conversation, int) else None,
        message_id=r.run_id if r.kind == "assistant" else None,
        flagged=r.detail.get("flagged") is True, model=str(r.detail.get("model") or ""),
        grounded=r.grounded, ungrounded_reason=r.detail.get("ungrounded_reason"),
        ungrounded_action=r.detail.get("ungrounded_action"),
        moderated=r.detail.get("moderated") is True,
    )


def finish(events: Iterator[ChatEvent]) -> ChatResult:
    """Drain a chat to its result."""
    for event in events:
        if event.result is not None:
            return event.result
    raise RuntimeError("the chat ended without a result")


def _result(answer: GroundedAnswer, stream: ChatStream) -> ChatResult:
    return ChatResult(
        answer=answer.answer,
        refused=answer.refused,
        citations=[asdict(c) for c in answer.citations],
        usage=stream.usage or TurnUsage(),
        conversation_id=stream.conversation_id,
        message_id=stream.message_id,
        flagged=answer.flagged,
        model=answer.model,
        grounded=answer.grounded,
        ungrounded_reason=answer.ungrounded_reason,
        ungrounded_action=answer.ungrounded_action,
        moderated=answer.moderated,
    )


def feedback_out(a: LoggedAnswer) -> dict[str, Any]:
    """A logged answer with its latest verdict, as the feedback endpoints return it."""
    return {
        "answer_id": a.id,
        "message_id": a.message_id,
        "assistant": a.assistant,
        "target": a.target,
        "question": a.question,
        "answer": a.answer,
        "rating": a.rating if a.rating is not None else 0,
        "comment": a.comment,
        "corrected_answer": a.corrected_answer,
        "tags": a.tags,
        "created_at": a.created_at,
    }
