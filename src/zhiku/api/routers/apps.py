"""Apps: assistants, workflows and agents behind one surface (``zk.apps``): the list, one
app, its versions, publish, roll back, delete, run (JSON or server-sent events), run history
and usage.

Access is each kind's own: an assistant needs a caller whose scope reaches it (and its
knowledge bases), a workflow or an agent a caller not limited to some names. Reading and running
take read access; publishing, rolling back and deleting write; usage admin. An assistant's run
history shows a non-admin caller only the turns it started.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import Field

from zhiku.accounts.principal import Level, Principal
from zhiku.accounts.scope import check_unrestricted
from zhiku.api.access import may_use, visible_assistant
from zhiku.api.actor import actor_of
from zhiku.api.deps import Caller, Service, State
from zhiku.api.schemas import ERRORS, Deleted, Id, Request
from zhiku.api.sse import sse_events
from zhiku.apps.running import AppKind
from zhiku.chat.store import Owner
from zhiku.service import Zhiku

router = APIRouter(tags=["apps"], responses=ERRORS)


class PublishIn(Request):
    """A note for the new version. For an app bound to an eval set, ``force`` publishes a
    draft the release gate finds worse than live; the ``reason`` and the caller are recorded."""

    note: str = Field(default="", max_length=2000)
    force: bool = False
    reason: str = Field(default="", max_length=2000)


class RollbackIn(Request):
    """The published version to make live again (none: the one before the live version)."""

    version: int | None = Field(default=None, ge=1)


class RunIn(Request):
    """A run of the live version. ``inputs``: an assistant's or agent's ``query`` (or
    ``messages``, OpenAI-style), a workflow's declared inputs; ``query`` and ``messages`` may
    also be given at the top level."""

    inputs: dict[str, Any] = Field(default_factory=dict)
    query: str | None = Field(default=None, max_length=100_000)
    messages: list[dict[str, Any]] | None = Field(default=None, max_length=500)
    stream: bool = Field(default=False, description="server-sent events as the run goes")

    def all_inputs(self) -> dict[str, Any]:
        """``inputs`` with the top-level ``query``/``messages`` added."""
        out = dict(self.inputs)
        if self.query is not None:
            out["query"] = self.query
        if self.messages is not None:
            out["messages"] = self.messages
        return out


def check_app(zk: Zhiku, caller: Principal, slug: str, level: Level = Level.READ) -> AppKind:
    """The kind of the app ``slug``, once the caller may use it at ``level`` (``Forbidden``
    or ``NotFound`` otherwise)."""
    kind = zk.apps.kind(slug)
    if kind == "assistant":
        visible_assistant(zk, caller, slug, level)
    else:
        check_unrestricted(caller, level)
    return kind


def _owner(caller: Principal) -> Owner:
    return Owner(user_id=caller.user_id, key_id=caller.key_id)


@router.get("/v1/apps")
def list_apps(caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """Every app the caller may use, of every kind: ``kind``, ``slug``, ``name``,
    ``live_version``, ``state`` (``unpublished``, ``published`` or ``changed``: the draft
    differs from the live version) and dates."""
    unscoped = caller.kbs is None and caller.assistants is None
    usable = {a.slug for a in zk.list_assistants() if may_use(caller, a)}
    return [a.to_dict() for a in zk.apps.list()
            if (a.slug in usable if a.kind == "assistant" else unscoped)]


@router.get("/v1/apps/{slug}")
def get_app(slug: str, caller: Caller, zk: Service) -> dict[str, Any]:
    """One app with its draft and live definitions."""
    check_app(zk, caller, slug)
    return zk.apps.get(slug).to_dict(with_definitions=True)


@router.delete("/v1/apps/{slug}", response_model=Deleted)
def delete_app(slug: str, caller: Caller, zk: Service) -> Deleted:
    """Delete an app with its versions."""
    check_app(zk, caller, slug, Level.WRITE)
    zk.apps.delete(slug)
    return Deleted()


@router.get("/v1/apps/{slug}/versions")
def app_versions(slug: str, caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """The published versions, newest first, with the live one marked."""
    check_app(zk, caller, slug)
    return zk.apps.versions(slug)


@router.post("/v1/apps/{slug}/publish")
def publish_app(slug: str, body: PublishIn, caller: Caller, zk: Service,
                state: State) -> dict[str, Any]:
    """Freeze the draft (checked again) as the next live version; answers the app. An app
    bound to an eval set passes the release gate first (409 naming the worse metrics unless
    ``force`` with a ``reason``)."""
    check_app(zk, caller, slug, Level.WRITE)
    zk.apps.publish(slug, body.note or None, force=body.force, reason=body.reason or None,
                    actor=actor_of(state, caller))
    return zk.apps.get(slug).to_dict()


@router.post("/v1/apps/{slug}/rollback")
def rollback_app(slug: str, body: RollbackIn, caller: Caller, zk: Service) -> dict[str, Any]:
    """Point live at an earlier published version (no new version is made; the draft stays);
    answers the app."""
    check_app(zk, caller, slug, Level.WRITE)
    return zk.apps.rollback(slug, body.version).to_dict()


@router.post(
    "/v1/apps/{slug}/run",
    response_model=None,
    responses={200: {"content": {"application/json": {}, "text/event-stream": {}}}},
)
def run_app(slug: str, body: RunIn, caller: Caller, zk: Service
            ) -> dict[str, Any] | StreamingResponse:
    """Run the live version. ``stream``: server-sent events (``started``, ``token``,
    ``citations``, node and step events, ``error``, ``done`` with the result); otherwise the
    result: ``output``, ``citations``, ``grounded``, ``usage``, ``run_id``, ``status``. An
    assistant's turn is stored as a conversation of the caller's."""
    check_app(zk, caller, slug)
    run = zk.apps.stream(slug, body.all_inputs(), owner=_owner(caller), endpoint="apps")
    if body.stream:
        return StreamingResponse(sse_events(run, what="app stream"),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})
    return run.finish().to_dict()


@router.get("/v1/apps/{slug}/runs")
def app_runs(slug: str, caller: Caller, zk: Service,
             limit: int = Query(50, ge=1, le=500),
             offset: int = Query(0, ge=0, le=1_000_000)) -> list[dict[str, Any]]:
    """The app's runs, newest first, ``limit`` from ``offset``: a workflow's or agent's
    recorded runs, an assistant's answered turns."""
    kind = check_app(zk, caller, slug)
    owner = _owner(caller) if kind == "assistant" and caller.level < Level.ADMIN else None
    return zk.apps.runs(slug, limit=limit, offset=offset, owner=owner)


@router.get("/v1/apps/{slug}/runs/{app_run_id}")
def app_run(slug: str, app_run_id: Id, caller: Caller, zk: Service) -> dict[str, Any]:
    """One run: a workflow's node records, an agent's tool calls, an assistant reply's
    citations."""
    kind = check_app(zk, caller, slug)
    owner = _owner(caller) if kind == "assistant" and caller.level < Level.ADMIN else None
    return zk.apps.get_run(slug, app_run_id, owner)


@router.get("/v1/apps/{slug}/usage")
def app_usage(slug: str, caller: Caller, zk: Service,
              bucket: Literal["day", "hour"] | None = None,
              since: str | None = Query(None, max_length=40),
              until: str | None = Query(None, max_length=40)) -> list[dict[str, Any]]:
    """Requests, tokens, cost and latency of the app, per day or hour ``bucket`` when given
    (``since``/``until``: ISO dates or times, ``until`` exclusive)."""
    caller.require(Level.ADMIN)
    check_app(zk, caller, slug)
    return zk.apps.usage(slug, bucket=bucket, since=since, until=until)
