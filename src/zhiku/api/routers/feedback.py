"""Feedback on answers (thumbs up/down/neutral, comment, corrected answer).

Feedback goes on an assistant's reply (a conversation message); it is kept in the evaluation
answer log (``zhiku feedback list``/``to-set`` and ``zhiku export`` see it, target
``app:<slug>``), where the latest verdict on an answer is the one that counts.

Whoever may read the conversation may rate its answers: its owner (a chat widget's read key
rates the answers it was given) or an admin. A corrected answer becomes training data, so it
needs write access as well.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level
from zhiku.api.access import usable_assistants, visible_conversation
from zhiku.api.chat.mapper import feedback_out
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Id, Request
from zhiku.core.errors import NotFound
from zhiku.evals import feedback as answer_log
from zhiku.evals.feedback import RatingName

router = APIRouter(tags=["feedback"], responses=ERRORS)


class FeedbackIn(Request):
    """A verdict on one answer."""

    rating: RatingName = Field(description="up, down or neutral (none is another name of "
                               "neutral)")
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


@router.post("/v1/messages/{message_id}/feedback", response_model=FeedbackOut, status_code=201)
def add_feedback(message_id: Id, body: FeedbackIn, caller: Caller, zk: Service) -> FeedbackOut:
    """Rate an assistant's answer (a message id from a chat): the conversation's owner or an
    admin may; a ``corrected_answer`` needs write access."""
    reply = zk.message(message_id)
    if reply.role != "assistant":  # only answers are rated
        raise NotFound(f"message {message_id} does not exist")
    visible_conversation(zk, caller, reply.conversation_id)
    if body.corrected_answer is not None:
        caller.require(Level.WRITE)
    logged = zk.rate_reply(message_id, body.rating, comment=body.comment,
                           corrected_answer=body.corrected_answer)
    return FeedbackOut(**feedback_out(logged))


@router.get("/v1/feedback", response_model=list[FeedbackOut])
def list_feedback(
    caller: Caller, zk: Service, assistant: str | None = None
) -> list[FeedbackOut]:
    """The workspace's answers that received feedback, newest first (admins). A key limited
    to some names sees only the answers of assistants within its scope."""
    caller.require(Level.ADMIN)
    target = answer_log.APP_TARGET + assistant if assistant else None
    rows = reversed(answer_log.list_answers(zk, answer_log.FeedbackFilter(target=target)))
    if caller.kbs is not None or caller.assistants is not None:
        usable = {a.slug for a in usable_assistants(zk, caller)}
        rows = (r for r in rows if r.assistant in usable)
    return [FeedbackOut(**feedback_out(r)) for r in rows]
