"""Background jobs: poll one, follow one with server-sent events, list a knowledge base's (or,
for admins, a workspace's, e.g. the dead ones), and queue a failed or dead one again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from zhiku.accounts.principal import Level, Principal
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Id, JobOut, job_out
from zhiku.api.sse import sse
from zhiku.core.errors import NotFound
from zhiku.jobs import Job
from zhiku.jobs.queue import FINAL
from zhiku.service import Zhiku

router = APIRouter(tags=["jobs"], responses=ERRORS)
JobStatus = Literal["queued", "running", "done", "failed", "dead"]
StatusQuery = Annotated[JobStatus | None, Query(description="Only jobs in this status.")]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="At most this many jobs.")]


def visible_job(zk: Zhiku, caller: Principal, job_id: Id) -> Job:
    """A job of the caller's workspace and scope, or ``NotFound``/``Forbidden``."""
    job = zk.jobs.get(job_id)
    caller.check_kb(str(job.payload.get("kb", "")))
    return job


@router.get("/v1/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: Id, caller: Caller, zk: Service) -> JobOut:
    """A job's status and progress."""
    return job_out(visible_job(zk, caller, job_id))


@router.get(
    "/v1/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def job_events(job_id: Id, caller: Caller, zk: Service) -> StreamingResponse:
    """Server-sent events: ``progress`` whenever the job changes, then ``done``."""
    visible_job(zk, caller, job_id)

    async def events() -> AsyncIterator[str]:
        last = ""
        while True:
            try:
                job = job_out(zk.jobs.get(job_id))
            except NotFound:
                yield sse("error", {"type": "not_found", "message": "the job is gone"})
                return
            data = job.model_dump_json()
            if data != last:
                last = data
                final = job.status in FINAL
                yield f"event: {'done' if final else 'progress'}\ndata: {data}\n\n"
                if final:
                    return
            await asyncio.sleep(0.25)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.get("/v1/kbs/{kb}/jobs", response_model=list[JobOut])
def list_jobs(
    kb: str, caller: Caller, zk: Service, status: StatusQuery = None, limit: LimitQuery = 50,
) -> list[JobOut]:
    """Recent jobs of a knowledge base, newest first."""
    caller.check_kb(kb)
    return [job_out(j) for j in zk.jobs.list(kb, limit=limit, status=status)]


@router.get("/v1/jobs", response_model=list[JobOut])
def list_workspace_jobs(
    caller: Caller, zk: Service, status: StatusQuery = None, limit: LimitQuery = 50
) -> list[JobOut]:
    """Recent jobs of every knowledge base of the workspace, newest first (admins): e.g.
    ``?status=dead`` for the jobs that gave up."""
    caller.require(Level.ADMIN)
    jobs = zk.jobs.list(status=status, limit=limit)
    return [job_out(j) for j in jobs if caller.may_kb(str(j.payload.get("kb", "")))]


@router.post("/v1/jobs/{job_id}/retry", response_model=JobOut, status_code=202)
def retry_job(job_id: Id, caller: Caller, zk: Service) -> JobOut:
    """Queue a failed or dead job again with a fresh set of attempts (admins); 409 for a job
    in any other state."""
    job = visible_job(zk, caller, job_id)
    caller.check_kb(str(job.payload.get("kb", "")), Level.ADMIN)
    return job_out(zk.jobs.retry(job_id))
