"""Liveness (``/healthz``) and readiness (``/readyz``): no authentication, no tenant data."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from zhiku.api.deps import State

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Status of the process."""

    status: str


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health, "description": "Not ready."}},
)
def readyz(state: State) -> Health | JSONResponse:
    """The database answers and, where this process runs jobs, its worker is alive."""
    try:
        state.db.conn.execute("SELECT 1").fetchone()
    except state.db.Error:
        return JSONResponse({"status": "database unavailable"}, status_code=503)
    if not state.jobs.healthy:
        return JSONResponse({"status": "ingestion worker stopped"}, status_code=503)
    return Health(status="ready")
