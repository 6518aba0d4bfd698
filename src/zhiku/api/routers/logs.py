"""The conversation log (对话日志) for admins: every conversation of every assistant and
channel, filtered and paged; one conversation's turns; corrections of a reply into an FAQ
entry and/or an eval question; refused questions grouped; eval sets from logged turns.

A key limited to some knowledge bases or assistants sees the conversations of the assistants
in its scope only (detached ones are left out), corrects only into knowledge bases in its
scope, and writes no eval sets (they span the workspace)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level, Principal
from zhiku.api.access import by_slug, slugs, usable_assistants, visible_conversation
from zhiku.api.deps import Caller, Service
from zhiku.api.mirror import Mirror
from zhiku.api.routers.groups import GroupRef
from zhiku.api.schemas import ERRORS, MAX_ID, Id, Request
from zhiku.core.errors import Forbidden
from zhiku.logs.corrections import Correction
from zhiku.logs.query import MAX_PAGE, LogFilter
from zhiku.service import Zhiku

router = APIRouter(tags=["logs"], responses=ERRORS)

Day = Annotated[str | None, Query(max_length=40, pattern=r"^\d{4}-\d{2}-\d{2}[0-9T:.Z+-]*$",
                                  description="ISO date or time.")]


class LogEntryOut(BaseModel):
    """A conversation in the log: its assistant (null: deleted), channel(s), owner, and how
    many of its turns were refused, rated down or cite nothing."""

    id: int
    assistant: str | None
    title: str | None
    channel: str
    channels: list[str]
    user_id: int | None
    key_id: int | None
    turns: int
    refused: int
    thumbs_down: int
    no_citation: int
    first_question: str
    created_at: str
    updated_at: str


class LogPageOut(BaseModel):
    """One page of the log; ``total`` counts every match."""

    total: int
    offset: int
    limit: int
    conversations: list[LogEntryOut]


class TurnOut(BaseModel):
    """A question and the reply to it, the reply's citations and its latest feedback."""

    message_id: int
    question: str
    answer: str
    refused: bool
    flagged: bool
    channel: str
    model: str | None
    citations: list[dict[str, Any]]
    rating: int | None
    comment: str
    corrected_answer: str | None
    created_at: str


class LogConversationOut(BaseModel):
    """One logged conversation with its turns."""

    conversation: LogEntryOut
    turns: list[TurnOut]


class CorrectIn(Request):
    """The fixed answer and where it goes: an FAQ entry in knowledge base ``kb`` and/or a
    question of ``eval_set`` (created if missing) whose expected source is
    ``expected_source``. ``groups``: who may read the FAQ entry."""

    answer: str = Field(min_length=1, max_length=20_000)
    kb: str | None = Field(default=None, min_length=1, max_length=128)
    eval_set: str | None = Field(default=None, min_length=1, max_length=128)
    expected_source: str | None = Field(default=None, min_length=1, max_length=2000)
    groups: list[GroupRef] | None = Field(
        default=None, max_length=100,
        description="The groups (ids or names) that may read the FAQ entry; an empty list: "
        "administrators only; null: the groups the reply's cited restricted documents share "
        "(unrestricted when it cited none). Setting them takes an admin of the knowledge base.")


class CorrectionOut(Mirror, source=Correction):
    """What the correction made."""


class UnansweredOut(BaseModel):
    """A refused question, how often it (or a near-duplicate wording, in ``variants``) was
    asked, and its latest reply's id."""

    question: str
    variants: list[str]
    count: int
    last_asked: str
    message_id: int
    assistants: list[str]


class FromLogIn(Request):
    """A new eval set of the selected replies (message ids from the log)."""

    name: str = Field(min_length=1, max_length=128)
    message_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1,
                                                                      max_length=1000)
    replace: bool = False


class EvalSetMadeOut(BaseModel):
    """The eval set made."""

    name: str
    size: int
    origin: str


def _scoped(caller: Principal) -> bool:
    return caller.kbs is not None or caller.assistants is not None


def _reach(zk: Zhiku, caller: Principal) -> list[int] | None:
    """The assistant ids a scoped key reaches (None: the whole workspace)."""
    caller.require(Level.ADMIN)
    return [a.id for a in usable_assistants(zk, caller)] if _scoped(caller) else None


def _entry_out(entry: dict[str, Any], names: dict[int, str]) -> LogEntryOut:
    out = {k: v for k, v in entry.items() if k != "assistant_id"}
    return LogEntryOut(**out, assistant=names.get(entry["assistant_id"] or 0))


@router.get("/v1/logs/conversations", response_model=LogPageOut)
def list_log(
    caller: Caller,
    zk: Service,
    assistant: Annotated[str | None, Query(max_length=64)] = None,
    channel: Annotated[str | None, Query(max_length=32,
                                         description="chat, openai, local, …")] = None,
    since: Day = None,
    until: Day = None,
    refused: bool = False,
    thumbs_down: bool = False,
    no_citation: bool = False,
    flagged: bool = False,
    q: Annotated[str | None, Query(max_length=500, description="Text in the questions.")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> LogPageOut:
    """Every conversation of the workspace, newest first, that has a turn matching every
    filter given (admins)."""
    reach = _reach(zk, caller)
    assistant_id = None
    if assistant is not None:
        assistant_id = by_slug(zk, assistant).id
        if reach is not None and assistant_id not in reach:
            raise Forbidden("this key is not allowed to use that assistant")
    flt = LogFilter(assistant_id=assistant_id, channel=channel, since=since, until=until,
                    refused=refused, thumbs_down=thumbs_down, no_citation=no_citation,
                    flagged=flagged, text=q or None, assistant_ids=reach)
    total, rows = zk.conversation_log(flt, offset=offset, limit=limit)
    names = slugs(zk)
    return LogPageOut(total=total, offset=offset, limit=limit,
                      conversations=[_entry_out(r.to_dict(), names) for r in rows])


@router.get("/v1/logs/conversations/{conversation_id}", response_model=LogConversationOut)
def get_logged(conversation_id: Id, caller: Caller, zk: Service) -> LogConversationOut:
    """One conversation of the log with every turn, citations and feedback (admins)."""
    caller.require(Level.ADMIN)
    visible_conversation(zk, caller, conversation_id)
    entry = _entry_out(zk.conversation_entry(conversation_id).to_dict(), slugs(zk))
    turns = [TurnOut(**{k: v for k, v in t.to_dict().items() if k != "question_id"})
             for t in zk.conversation_turns(conversation_id)]
    return LogConversationOut(conversation=entry, turns=turns)


@router.post("/v1/logs/messages/{message_id}/correct", response_model=CorrectionOut,
             status_code=201)
def correct(message_id: Id, body: CorrectIn, caller: Caller, zk: Service) -> CorrectionOut:
    """Fix a reply: the answer becomes an FAQ entry in ``kb`` (searchable at once, read only
    by those who may read the restricted documents the reply cited, or by ``groups``) and/or
    a question of ``eval_set``; it is also recorded as the reply's corrected answer
    (admins)."""
    caller.require(Level.ADMIN)
    reply = zk.message(message_id)
    visible_conversation(zk, caller, reply.conversation_id)
    if body.kb is not None:
        caller.check_kb(body.kb, Level.WRITE if body.groups is None else Level.ADMIN)
    if body.eval_set is not None and _scoped(caller):
        raise Forbidden("eval sets need a key that is not limited to some knowledge bases "
                        "or assistants")
    made = zk.correct_reply(message_id, body.answer, kb=body.kb, eval_set=body.eval_set,
                            expected_source=body.expected_source, groups=body.groups)
    return CorrectionOut(**made.to_dict())


@router.get("/v1/logs/unanswered", response_model=list[UnansweredOut])
def unanswered(
    caller: Caller,
    zk: Service,
    since: Day = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[UnansweredOut]:
    """Refused questions (待补充问题), grouped by normalised text, most asked first (admins)."""
    reach = _reach(zk, caller)
    names = slugs(zk)
    return [
        UnansweredOut(question=g.question, variants=g.variants, count=g.count,
                      last_asked=g.last_asked, message_id=g.message_id,
                      assistants=[names[i] for i in g.assistant_ids if i in names])
        for g in zk.unanswered_questions(assistant_ids=reach, since=since, limit=limit)
    ]


@router.post("/v1/logs/eval-sets", response_model=EvalSetMadeOut, status_code=201)
def eval_set_from_log(body: FromLogIn, caller: Caller, zk: Service) -> EvalSetMadeOut:
    """An eval set of the selected replies: each question with the corrected answer (else the
    reply) as reference, a refused one as unanswerable (admins with an unscoped key)."""
    caller.require(Level.ADMIN)
    if _scoped(caller):
        raise Forbidden("eval sets need a key that is not limited to some knowledge bases "
                        "or assistants")
    made = zk.eval_set_from_log(body.name, body.message_ids, replace=body.replace)
    return EvalSetMadeOut(name=made.name, size=made.size, origin=made.origin)
