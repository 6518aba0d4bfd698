"""The audit log of the caller's workspace: a page at a time, or all of it as JSON lines
(workspace-wide admins only: an entry names members, keys and knowledge bases)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from zhiku.accounts.scope import check_unrestricted
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS
from zhiku.audit.log import PAGE_MAX, Entry
from zhiku.audit.log import Query as AuditQuery

router = APIRouter(tags=["audit"], responses=ERRORS)

Since = Annotated[str | None, Query(max_length=40, description="ISO date or time (inclusive); "
                                   "UTC unless it has a zone.")]
Until = Annotated[str | None, Query(max_length=40, description="ISO date or time (exclusive).")]
ActorQ = Annotated[str | None, Query(max_length=320, description="Part of the actor's name "
                                     "(an e-mail, a key's name), or its id.")]
ActionQ = Annotated[str | None, Query(max_length=100, description="An action (kb.delete) or a "
                                      "family (kb, kb.*).")]
ResultQ = Annotated[Literal["success", "failure"] | None, Query(description="Only this result.")]


class EntryOut(BaseModel):
    """One recorded action: who (actor), what (action, target), when (``at``, UTC), from
    where (address) and how it ended (result; ``detail.error`` for a failure)."""

    id: int
    at: str
    actor_kind: str
    actor_id: str | None
    actor_name: str
    action: str
    target_kind: str | None
    target_id: str | None
    target_name: str | None
    address: str | None
    result: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    """Entries newest first; pass ``next_cursor`` as ``cursor`` for the older ones."""

    entries: list[EntryOut]
    next_cursor: str | None


def entry_out(entry: Entry) -> EntryOut:
    """Wire form of an entry (its workspace is the caller's)."""
    values = entry.as_dict()
    values.pop("workspace_id")
    return EntryOut(**values)


@router.get("/v1/audit", response_model=AuditPage)
def audit_log(
    caller: Caller,
    zk: Service,
    since: Since = None,
    until: Until = None,
    actor: ActorQ = None,
    action: ActionQ = None,
    result: ResultQ = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
) -> AuditPage:
    """The workspace's audit log, newest first, filtered by time, actor, action and result
    (admins not limited to some names)."""
    check_unrestricted(caller)
    page = zk.audit_entries(AuditQuery(since, until, actor, action, result), cursor=cursor,
                            limit=limit)
    return AuditPage(entries=[entry_out(e) for e in page.entries], next_cursor=page.next_cursor)


@router.get(
    "/v1/audit.jsonl",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/jsonl": {}}}},
)
def audit_export(
    caller: Caller,
    zk: Service,
    since: Since = None,
    until: Until = None,
    actor: ActorQ = None,
    action: ActionQ = None,
    result: ResultQ = None,
) -> StreamingResponse:
    """Every matching entry as JSON lines, oldest first, streamed (admins not limited to some
    names)."""
    check_unrestricted(caller)
    entries = zk.audit_export(AuditQuery(since, until, actor, action, result))
    first = next(entries, None)  # a bad filter is answered 400 before the stream starts

    def lines() -> Iterator[bytes]:
        if first is None:
            return
        for entry in itertools.chain([first], entries):
            yield (json.dumps(entry_out(entry).model_dump(), ensure_ascii=False) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/jsonl", headers={
        "content-disposition": 'attachment; filename="audit.jsonl"'})

