"""Feedback on answers (thumbs up/down, comment, corrected answer) and usage figures.

Feedback goes on an assistant's reply (a conversation message); it is kept in the evaluation
answer log (``zhiku feedback list``/``to-set`` and ``zhiku export`` see it, target
``app:<slug>``), where the latest verdict on an answer is the one that counts.

Whoever may read the conversation may rate its answers: its owner (a chat widget's read key
rates the answers it was given) or an admin. A corrected answer becomes training data, so it
needs write access as well.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level
from zhiku.api.deps import Caller, State
from zhiku.api.routers.assistants import may_use
from zhiku.api.routers.conversations import visible_conversation
from zhiku.api.schemas import ERRORS, Day, Id, Request

router = APIRouter(tags=["feedback"], responses=ERRORS)
RATINGS = {"up": 1, "down": -1, "neutral": 0}


class FeedbackIn(Request):
    """A verdict on one answer."""

    rating: Literal["up", "down", "neutral"]
    comment: str = Field(default="", max_length=5000)
    corrected_answer: str | None = Field(default=None, max_length=20_000)


class FeedbackOut(BaseModel):
    """An answer with its latest feedback."""

    answer_id: int
    message_id: int | None
    assistant: str | None
    target: str
    question: str
    answer: str
    rating: int
    comment: str
    corrected_answer: str | None
    tags: list[str]
    created_at: str


class UsageRow(BaseModel):
    """Answers and their cost in one group (an assistant, a key id or a day). Per assistant and
    day: every model call of the workspace (API, CLI, Python); per key: the API's requests.
    ``calls`` counts model calls (rewrites and failed attempts included)."""

    group: str | int | None
    requests: int
    calls: int
    input_tokens: int
    output_tokens: int
    cost: float
    avg_latency_ms: float
    max_latency_ms: float


@router.post("/v1/messages/{message_id}/feedback", response_model=FeedbackOut, status_code=201)
def add_feedback(message_id: Id, body: FeedbackIn, caller: Caller, state: State) -> FeedbackOut:
    """Rate an assistant's answer (a message id from a chat): the conversation's owner or an
    admin may; a ``corrected_answer`` needs write access."""
    conversation_id = state.chat.message_conversation(caller.workspace_id, message_id)
    visible_conversation(state, caller, conversation_id)
    if body.corrected_answer is not None:
        caller.require(Level.WRITE)
    row = state.chat.add_feedback(
        caller.workspace_id, message_id, RATINGS[body.rating], body.comment, body.corrected_answer
    )
    return FeedbackOut(**row)


@router.get("/v1/feedback", response_model=list[FeedbackOut])
def list_feedback(
    caller: Caller, state: State, assistant: str | None = None
) -> list[FeedbackOut]:
    """The workspace's answers that received feedback, newest first (admins). A key limited
    to some names sees only the answers of assistants within its scope."""
    caller.require(Level.ADMIN)
    rows = state.chat.feedback(caller.workspace_id, assistant)
    if caller.kbs is not None or caller.assistants is not None:
        usable = {a.slug for a in state.chat.list_assistants(caller.workspace_id)
                  if may_use(caller, a)}
        rows = [r for r in rows if r["assistant"] in usable]
    return [FeedbackOut(**r) for r in rows]


@router.get("/v1/usage", response_model=list[UsageRow])
def usage(
    caller: Caller,
    state: State,
    group_by: Literal["assistant", "key", "day"] = "assistant",
    since: Day | None = None,
) -> list[UsageRow]:
    """Tokens, cost and latency per assistant, key or day (admins)."""
    caller.require(Level.ADMIN)
    rows = state.chat.usage(caller.workspace_id, group_by, since.isoformat() if since else None)
    return [UsageRow(group=r.pop("grp"), **r) for r in rows]
