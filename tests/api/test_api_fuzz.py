"""Property-based fuzzing of the whole OpenAPI spec (schemathesis): no 5xx, and every response
matches the schema the spec declares — with a valid admin key and seeded data, so requests get
past authentication and reach the handlers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_helpers import api_settings, make_tenant, seed
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from zhiku.api.app import create_app

pytestmark = pytest.mark.slow
_HOME = Path("/tmp")  # replaced by the fixture before any request
_STATE: dict[str, Any] = {}


def _app() -> Any:
    if "app" not in _STATE:
        import tempfile

        home = Path(tempfile.mkdtemp(prefix="zhiku-fuzz-"))
        _STATE["home"] = home
        _STATE["settings"] = api_settings(home)
        _STATE["app"] = create_app(_STATE["settings"])
    return _STATE["app"]


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@pytest.fixture(scope="module", autouse=True)
def running() -> Iterator[None]:
    with TestClient(_app()) as client:
        tenant = make_tenant(_STATE["settings"], "fuzz")
        seed(client, tenant, "kb1")
        _STATE["headers"] = tenant.headers
        _STATE["read_headers"] = {"Authorization": f"Bearer {tenant.ids['read_key']}"}
        yield


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_schema_conformance(case: schemathesis.Case) -> None:
    # the read-only key keeps fuzzing from deleting the seeded data that deeper paths need
    headers = _STATE["headers"] if case.method == "GET" else _STATE["read_headers"]
    if case.path == "/v1/auth/logout":
        headers = {}
    case.call_and_validate(headers=headers,
                           checks=[not_a_server_error, response_schema_conformance])
