"""Workflows: stored, versioned graphs of nodes (CRUD, validate, publish), their runs (JSON or
server-sent events as the run goes) and the run history, over ``zk.workflows``.

A workflow can reach any knowledge base and model of its workspace, so its routes need a caller
not limited to some names: reading and running take read access, editing and publishing write.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level, Principal
from zhiku.accounts.scope import check_unrestricted
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Deleted, Id, Request
from zhiku.api.sse import sse_events
from zhiku.core.names import Name
from zhiku.workflows.events import WorkflowEvent

router = APIRouter(tags=["workflows"], responses=ERRORS)


class WorkflowIn(Request):
    """A new workflow: its name, optional slug and definition (validated on save)."""

    name: Name = Field(max_length=200)
    slug: str | None = Field(default=None, min_length=1, max_length=64,
                             pattern=r"^[a-z0-9][a-z0-9._-]*$")
    definition: dict[str, Any] = Field(description="see docs/workflows.md")


class WorkflowPatch(Request):
    """A new name and/or a whole new draft definition."""

    name: Name | None = Field(default=None, max_length=200)
    definition: dict[str, Any] | None = None


class DefinitionIn(Request):
    """A definition to check without saving it."""

    definition: dict[str, Any]


class PublishIn(Request):
    """A note for the new version."""

    note: str = Field(default="", max_length=2000)


class RunIn(Request):
    """Run inputs; the live version by default, or a published ``version``, or the draft."""

    inputs: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1)
    draft: bool = False
    stream: bool = Field(default=False, description="server-sent events as the run goes")


class ProblemOut(BaseModel):
    """One problem of a definition: the node, the field and what is wrong."""

    node: str | None
    field: str | None
    message: str


class ValidationOut(BaseModel):
    """Whether a definition is valid, and every problem when it is not."""

    valid: bool
    problems: list[ProblemOut]


def _caller(caller: Principal, level: Level = Level.READ) -> None:
    check_unrestricted(caller, level)


@router.get("/v1/workflows")
def list_workflows(caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """Every workflow of the workspace (drafts and live versions)."""
    _caller(caller)
    return [w.to_dict() for w in zk.workflows.list()]


@router.post("/v1/workflows", status_code=201)
def create_workflow(body: WorkflowIn, caller: Caller, zk: Service) -> dict[str, Any]:
    """Create a workflow; an invalid definition is a 400 listing every problem by node and
    field."""
    _caller(caller, Level.WRITE)
    return zk.workflows.create(body.name, body.definition, body.slug).to_dict()


@router.post("/v1/workflow-validation", response_model=ValidationOut)
def validate_workflow(body: DefinitionIn, caller: Caller, zk: Service) -> ValidationOut:
    """Check a definition without saving it."""
    _caller(caller)
    found = zk.workflows.problems(body.definition)
    return ValidationOut(valid=not found,
                         problems=[ProblemOut(**p.model_dump()) for p in found])


@router.get("/v1/workflows/{slug}")
def get_workflow(slug: str, caller: Caller, zk: Service) -> dict[str, Any]:
    """One workflow: its draft and its live version."""
    _caller(caller)
    return zk.workflows.get(slug).to_dict()


@router.patch("/v1/workflows/{slug}")
def update_workflow(slug: str, body: WorkflowPatch, caller: Caller, zk: Service
                    ) -> dict[str, Any]:
    """Rename and/or replace the draft (validated)."""
    _caller(caller, Level.WRITE)
    return zk.workflows.update(slug, body.definition, body.name).to_dict()


@router.delete("/v1/workflows/{slug}", response_model=Deleted)
def delete_workflow(slug: str, caller: Caller, zk: Service) -> Deleted:
    """Delete a workflow with its versions and runs."""
    _caller(caller, Level.WRITE)
    zk.workflows.delete(slug)
    return Deleted(deleted=True)


@router.post("/v1/workflows/{slug}/publish")
def publish_workflow(slug: str, body: PublishIn, caller: Caller, zk: Service) -> dict[str, int]:
    """Freeze the draft as the next live version (a workflow bound to an eval set passes the
    release gate first: 409 naming the worse metrics; ``POST /v1/apps/{slug}/publish`` can
    force it with a reason)."""
    _caller(caller, Level.WRITE)
    return {"version": zk.releases.publish(slug, body.note or None)}


@router.get("/v1/workflows/{slug}/versions")
def workflow_versions(slug: str, caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """The published versions, newest first."""
    _caller(caller)
    return zk.workflows.versions(slug)


def _failed(kind: str, message: str) -> str:
    """A failure after the stream began: the run's last event, ``run_finished`` failed."""
    return WorkflowEvent("run_finished", None, {
        "status": "failed", "error": {"type": kind, "message": message}}).sse()


@router.post(
    "/v1/workflows/{slug}/run",
    response_model=None,
    responses={200: {"content": {"application/json": {}, "text/event-stream": {}}}},
)
def run_workflow(slug: str, body: RunIn, caller: Caller, zk: Service
                 ) -> dict[str, Any] | StreamingResponse:
    """Run a workflow and record the run. ``stream``: server-sent events (``run_started``,
    ``node_started``, ``token``, ``citations``, ``node_finished``…, ``run_finished``); otherwise
    the whole run with each node's inputs, outputs, timing, tokens and cost. Running the draft
    takes write access."""
    _caller(caller, Level.WRITE if body.draft else Level.READ)
    if body.stream:
        events = zk.workflows.stream(slug, body.inputs, version=body.version, draft=body.draft)
        return StreamingResponse(sse_events(events, _failed, "workflow stream"),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})
    run = zk.workflows.run(slug, body.inputs, version=body.version, draft=body.draft)
    return run.to_dict()


@router.get("/v1/workflows/{slug}/runs")
def workflow_runs(slug: str, caller: Caller, zk: Service,
                  limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
    """Recorded runs of a workflow, newest first."""
    _caller(caller)
    zk.workflows.get(slug)  # 404 for a workflow of another workspace or none
    return zk.workflows.runs(slug, limit)


@router.get("/v1/workflow-runs/{workflow_run_id}")
def get_run(workflow_run_id: Id, caller: Caller, zk: Service) -> dict[str, Any]:
    """One recorded run with every node's inputs, outputs, timing, tokens, cost and error."""
    _caller(caller)
    return zk.workflows.get_run(workflow_run_id)


@router.post("/v1/workflow-runs/{workflow_run_id}/replay")
def replay_run(workflow_run_id: Id, caller: Caller, zk: Service) -> dict[str, Any]:
    """Run a recorded run's definition again with its recorded inputs (a new run)."""
    _caller(caller, Level.WRITE)
    return zk.workflows.replay(workflow_run_id).to_dict()
