"""``/metrics``: Prometheus text exposition (see ``zhiku.api.metrics``)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from zhiku.api.deps import State

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(state: State) -> Response:
    """Prometheus text exposition."""
    collectors = state.metrics
    for status, count in state.jobs.counts().items():
        collectors.jobs.labels(status).set(count)
    return Response(generate_latest(collectors.registry), media_type=CONTENT_TYPE_LATEST)
