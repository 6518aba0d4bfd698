"""Provable releases over HTTP: bind an app (``/v1/apps/{slug}/...``: an assistant, a
chat-shaped workflow or an agent; ``/v1/assistants/{slug}/...``: an assistant) to an eval set,
read the draft's scorecard beside the live version's, gate the live version on demand, roll
back (thin over ``Zhiku.releases``; publishing with ``force`` and a ``reason`` is
``POST .../publish``).

Scorecards are eval runs over a whole eval set, so these routes need, beside access to the
app, a session or a key that is not limited to some knowledge bases or assistants (as
``/v1/evals``); binding, gating and rolling back need write access.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level, Principal
from zhiku.api.access import visible_assistant
from zhiku.api.deps import Caller, Service
from zhiku.api.routers.apps import check_app
from zhiku.api.routers.assistants import AssistantOut, assistant_out
from zhiku.api.schemas import ERRORS, MAX_ID, Request
from zhiku.core.errors import Forbidden
from zhiku.evals.view import clean

router = APIRouter(tags=["assistants"], responses=ERRORS)


class EvalSetIn(Request):
    """The eval set releases are checked on (null: publish without checks), how deep it is
    questioned, and the primary metrics (empty: the deepest nDCG, refusal, F1 and citation
    recall)."""

    eval_set: str | None = Field(max_length=128)
    top_k: int = Field(default=10, ge=1, le=100)
    metrics: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=20)


class EvalSetOut(BaseModel):
    """An app's eval-set binding (``eval_set`` null: none)."""

    eval_set: str | None
    top_k: int | None = None
    metrics: list[str] = Field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None


class SideOut(BaseModel):
    """One configuration's eval run: its label (``draft``, ``v3``), run id, whether a stored
    run was reused, and its summary (metric means, latency percentiles, tokens, cost)."""

    label: str
    run_id: int
    reused: bool
    target: str
    summary: dict[str, Any]


class MetricOut(BaseModel):
    """One metric, candidate (b) against baseline (a): means, b − a and its 95% paired
    bootstrap interval; ``worse`` when the candidate is worse beyond it."""

    metric: str
    n: int
    a: float | None
    b: float | None
    delta: float | None
    low: float | None
    high: float | None
    worse: bool


class ScorecardOut(BaseModel):
    """A candidate run beside a baseline run on the bound set (``baseline`` null: nothing to
    compare with yet); ``passed`` when no primary metric is worse beyond its interval."""

    app: str
    eval_set: str
    passed: bool
    candidate: SideOut
    baseline: SideOut | None
    primary: list[str]
    deltas: list[MetricOut]
    regressions: list[MetricOut]


class RollbackIn(Request):
    """The version to make live again (default: the one before the live one)."""

    version: int | None = Field(default=None, ge=1, le=MAX_ID)


def _allowed(zk: Service, caller: Principal, slug: str, level: Level) -> None:
    """Access to the assistant at ``level``, with a session or an unscoped key."""
    visible_assistant(zk, caller, slug, level)
    _unscoped(caller)


def _app_allowed(zk: Service, caller: Principal, slug: str, level: Level) -> None:
    """Access to the app of any kind at ``level``, with a session or an unscoped key."""
    check_app(zk, caller, slug, level)
    _unscoped(caller)


def _unscoped(caller: Principal) -> None:
    if caller.kbs is not None or caller.assistants is not None:
        raise Forbidden("scorecards run a whole eval set: they need a key that is not limited "
                        "to some knowledge bases or assistants")


def _bind(zk: Service, slug: str, body: EvalSetIn) -> EvalSetOut:
    if body.eval_set is None:
        zk.releases.unbind(slug)
        return EvalSetOut(eval_set=None)
    found = zk.releases.bind(slug, body.eval_set, top_k=body.top_k, metrics=body.metrics)
    return EvalSetOut(**found.to_dict())


@router.put("/v1/assistants/{slug}/eval-set", response_model=EvalSetOut)
def bind_eval_set(slug: str, body: EvalSetIn, caller: Caller, zk: Service) -> EvalSetOut:
    """Check every publish of the assistant on an eval set (null: stop checking)."""
    _allowed(zk, caller, slug, Level.WRITE)
    return _bind(zk, slug, body)


@router.get("/v1/assistants/{slug}/scorecard", response_model=ScorecardOut)
def scorecard(slug: str, caller: Caller, zk: Service) -> ScorecardOut:
    """The draft's eval run beside the live version's on the bound set; runs are made now
    unless stored ones of the same configuration, set and corpus exist."""
    _allowed(zk, caller, slug, Level.READ)
    return ScorecardOut(**clean(zk.releases.scorecard(slug).to_dict()))


@router.post("/v1/assistants/{slug}/gate", response_model=ScorecardOut)
def gate(slug: str, caller: Caller, zk: Service) -> ScorecardOut:
    """Run the bound set on the live version now and compare it with the live version's
    stored scorecard (``passed`` false: worse beyond the interval on a primary metric)."""
    _allowed(zk, caller, slug, Level.WRITE)
    return ScorecardOut(**clean(zk.releases.gate(slug).to_dict()))


@router.put("/v1/apps/{slug}/eval-set", response_model=EvalSetOut, tags=["apps"])
def bind_app_eval_set(slug: str, body: EvalSetIn, caller: Caller, zk: Service) -> EvalSetOut:
    """Check every publish of the app (an assistant, a chat-shaped workflow or an agent) on
    an eval set (null: stop checking); each question runs the app as one chat message."""
    _app_allowed(zk, caller, slug, Level.WRITE)
    return _bind(zk, slug, body)


@router.get("/v1/apps/{slug}/scorecard", response_model=ScorecardOut, tags=["apps"])
def app_scorecard(slug: str, caller: Caller, zk: Service) -> ScorecardOut:
    """The app's draft run on the bound set beside its live version's; runs are made now
    unless stored ones of the same configuration, set and corpus exist."""
    _app_allowed(zk, caller, slug, Level.READ)
    return ScorecardOut(**clean(zk.releases.scorecard(slug).to_dict()))


@router.post("/v1/apps/{slug}/gate", response_model=ScorecardOut, tags=["apps"])
def app_gate(slug: str, caller: Caller, zk: Service) -> ScorecardOut:
    """Run the bound set on the app's live version now and compare it with the live
    version's stored scorecard (``passed`` false: worse beyond the interval)."""
    _app_allowed(zk, caller, slug, Level.WRITE)
    return ScorecardOut(**clean(zk.releases.gate(slug).to_dict()))


@router.post("/v1/assistants/{slug}/rollback", response_model=AssistantOut)
def rollback(slug: str, body: RollbackIn, caller: Caller, zk: Service) -> AssistantOut:
    """Make an earlier version live again."""
    visible_assistant(zk, caller, slug, Level.WRITE)
    zk.rollback_assistant(slug, body.version)
    return assistant_out(zk.get_assistant(slug))

