"""Moderation of a workspace's questions and answers, over ``zk.moderation``: the policy (an
admin's), a dry run, and the log of hits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level
from zhiku.accounts.scope import check_unrestricted
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Deleted, Request
from zhiku.moderation.policy import ModerationPolicy

router = APIRouter(tags=["moderation"], responses=ERRORS)


class ModerationOut(BaseModel):
    """The workspace's policy; ``configured`` is false when none was set (nothing is
    moderated, and ``policy`` shows the defaults)."""

    configured: bool
    policy: ModerationPolicy


class ModerationTestIn(Request):
    """A text to try, against the stored policy or the one given."""

    text: str = Field(min_length=1, max_length=100_000)
    policy: ModerationPolicy | None = None


@router.get("/v1/moderation", response_model=ModerationOut)
def get_policy(caller: Caller, zk: Service) -> ModerationOut:
    """The workspace's moderation policy."""
    check_unrestricted(caller, Level.ADMIN)
    policy = zk.moderation.policy()
    return ModerationOut(configured=policy is not None, policy=policy or ModerationPolicy())


@router.put("/v1/moderation", response_model=ModerationOut)
def put_policy(body: ModerationPolicy, caller: Caller, zk: Service) -> ModerationOut:
    """Replace the policy (it applies from the next question on)."""
    check_unrestricted(caller, Level.ADMIN)
    return ModerationOut(configured=True, policy=zk.moderation.set_policy(body))


@router.delete("/v1/moderation", response_model=Deleted)
def delete_policy(caller: Caller, zk: Service) -> Deleted:
    """Stop moderating (the log of hits stays)."""
    check_unrestricted(caller, Level.ADMIN)
    zk.moderation.clear()
    return Deleted(deleted=True)


@router.post("/v1/moderation/test")
def test_policy(body: ModerationTestIn, caller: Caller, zk: Service) -> dict[str, Any]:
    """What the policy does to ``text`` as a question and as an answer (nothing logged, the
    endpoint not called)."""
    check_unrestricted(caller, Level.ADMIN)
    return zk.moderation.test(body.text, body.policy)


@router.get("/v1/moderation/hits")
def list_hits(caller: Caller, zk: Service, limit: int = Query(50, ge=1, le=500),
              before: int | None = Query(None, ge=1)) -> list[dict[str, Any]]:
    """Logged hits, newest first; ``before`` (an id) pages on."""
    check_unrestricted(caller, Level.ADMIN)
    return zk.moderation.hits(limit, before)
