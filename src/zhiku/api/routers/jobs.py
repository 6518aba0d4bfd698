"""Ingestion jobs: poll one, follow one with server-sent events, list a knowledge base's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from zhiku.api.auth.principal import Principal
from zhiku.api.deps import Caller, Service, State
from zhiku.api.jobs import Job
from zhiku.api.schemas import ERRORS, Id
from zhiku.api.state import ApiState
from zhiku.core.errors import NotFound

router = APIRouter(tags=["jobs"], responses=ERRORS)


class FileOut(BaseModel):
    """What happened to one file of a job."""

    source: str
    status: str
    document_id: int | None = None
    chunks: int = 0
    error: str | None = None


class JobOut(BaseModel):
    """A background job and its progress (0..1); ``result`` is what a finished graph build
    reports (chunks extracted, seconds, communities and the graph's counts)."""

    id: int
    kind: str
    kb: str
    status: str
    progress: float
    error: str | None
    files_total: int
    files_done: int
    chunks_total: int
    chunks_embedded: int
    files: list[FileOut]
    result: dict[str, Any] | None = None
    created_at: str
    updated_at: str


def job_out(job: Job) -> JobOut:
    """Wire form of a job."""
    p: dict[str, Any] = job.payload
    return JobOut(
        id=job.id,
        kind=job.kind.removeprefix("api_"),
        kb=str(p.get("kb", "")),
        status=job.status,
        progress=job.progress,
        error=job.error,
        files_total=int(p.get("files_total", 0)),
        files_done=int(p.get("files_done", 0)),
        chunks_total=int(p.get("chunks_total", 0)),
        chunks_embedded=int(p.get("chunks_embedded", 0)),
        files=[FileOut(**r) for r in p.get("results", [])],
        result=p.get("result") if isinstance(p.get("result"), dict) else None,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


def visible_job(state: ApiState, caller: Principal, job_id: Id) -> Job:
    """A job of the caller's workspace and scope, or ``NotFound``/``Forbidden``."""
    job = state.jobs.get(caller.workspace_id, job_id)
    caller.check_kb(str(job.payload.get("kb", "")))
    return job


@router.get("/v1/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: Id, caller: Caller, state: State) -> JobOut:
    """A job's status and progress."""
    return job_out(visible_job(state, caller, job_id))


@router.get(
    "/v1/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def job_events(job_id: Id, caller: Caller, state: State) -> StreamingResponse:
    """Server-sent events: ``progress`` whenever the job changes, then ``done``."""
    visible_job(state, caller, job_id)

    async def events() -> AsyncIterator[str]:
        last = ""
        while True:
            try:
                job = job_out(state.jobs.get(caller.workspace_id, job_id))
            except NotFound:
                yield sse("error", {"type": "not_found", "message": "the job is gone"})
                return
            data = job.model_dump_json()
            if data != last:
                last = data
                final = job.status in ("done", "failed")
                yield f"event: {'done' if final else 'progress'}\ndata: {data}\n\n"
                if final:
                    return
            await asyncio.sleep(0.25)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.get("/v1/kbs/{kb}/jobs", response_model=list[JobOut])
def list_jobs(kb: str, caller: Caller, zk: Service, state: State) -> list[JobOut]:
    """Recent jobs of a knowledge base, newest first."""
    caller.check_kb(kb)
    return [job_out(j) for j in state.jobs.list(zk.kb(kb).id)]


def sse(event: str, payload: Any) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
