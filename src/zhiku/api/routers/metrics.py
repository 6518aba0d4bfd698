"""``/metrics``: Prometheus text exposition (see ``zhiku.api.metrics``).

The counters cover the whole server (every workspace's traffic, sign-ins, jobs), so reading them
needs ``ZHIKU_METRICS_TOKEN`` as the bearer token or, when that is unset, an owner's or admin's
session or unrestricted admin key.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from zhiku.accounts import scope
from zhiku.accounts import secrets as sec
from zhiku.api.deps import Credentials, State, get_principal
from zhiku.api.schemas import ERRORS
from zhiku.core.errors import Unauthorized

router = APIRouter(tags=["health"])


def _authorize(request: Request, state: State, credentials: Credentials) -> None:
    token = state.settings.metrics_token
    if token:
        if credentials is None or not sec.same(credentials.credentials, token):
            raise Unauthorized("send 'Authorization: Bearer <ZHIKU_METRICS_TOKEN>'")
        return
    scope.check_unrestricted(get_principal(request, state, credentials))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, **ERRORS},
)
def metrics(request: Request, state: State, credentials: Credentials) -> Response:
    """Prometheus text exposition (the metrics token, or an unrestricted admin)."""
    _authorize(request, state, credentials)
    collectors = state.metrics
    for status, count in state.jobs.counts().items():
        collectors.jobs.labels(status).set(count)
    return Response(generate_latest(collectors.registry), media_type=CONTENT_TYPE_LATEST)
