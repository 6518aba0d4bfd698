"""A workspace name is checked by one rule, whichever face creates the workspace: the Python API
(``Zhiku(workspace=...)``), HTTP (``POST /v1/workspaces``) and ``zhiku admin init``."""

from __future__ import annotations

import pytest
from api_helpers import Tenant
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from zhiku.cli.main import create_app as create_cli
from zhiku.core.errors import InvalidName
from zhiku.core.settings import Settings
from zhiku.service import Zhiku
from zhiku.store.db import open_database

BAD = ["", "   ", "x" * 200, "evil\nname", "tab\there", "nul\x00", "esc\x1b[31m", "rtl\u202eexe"]


def _session(client: TestClient, tenant: Tenant) -> dict[str, str]:
    r = client.post("/v1/auth/login", json={"email": tenant.email, "password": tenant.password})
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _workspaces(settings: Settings) -> list[str]:
    db = open_database(settings)
    try:
        return [r[0] for r in db.conn.execute("SELECT name FROM workspaces ORDER BY id")]
    finally:
        db.close()


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_a_bad_workspace_name_is_refused_alike_by_every_face(
    client: TestClient, tenant_a: Tenant, settings: Settings, bad: str
) -> None:
    before = _workspaces(settings)
    with pytest.raises(InvalidName) as python:
        Zhiku(settings, workspace=bad)
    refused = python.value
    r = client.post("/v1/workspaces", headers=_session(client, tenant_a), json={"name": bad})
    assert r.status_code == refused.status == 422
    assert r.json() == {"error": {"type": refused.kind, "message": refused.message}}
    result = CliRunner().invoke(create_cli(), [
        "admin", "init", "--email", "new@acme.example", "--workspace", bad, "--password-stdin",
    ], input="a fine long passphrase\n")
    assert result.exit_code == 2 and refused.message in result.output, result.output
    assert _workspaces(settings) == before  # nothing was created anywhere
    assert client.post("/v1/auth/login", json={"email": "new@acme.example",
                                               "password": "a fine long passphrase"}
                       ).status_code == 401


def test_a_chinese_workspace_name_is_accepted_by_every_face(
    client: TestClient, tenant_a: Tenant, settings: Settings
) -> None:
    r = client.post("/v1/workspaces", headers=_session(client, tenant_a), json={"name": "研发部"})
    assert r.status_code == 201, r.text
    made_over_http = r.json()["id"]
    with Zhiku(settings, workspace="研发部") as zk:
        assert zk.workspace_id == made_over_http
    with Zhiku(settings, workspace="法务部 2024") as zk:
        made_in_python = zk.workspace_id
    result = CliRunner().invoke(create_cli(), [
        "admin", "init", "--email", "lead@acme.example", "--workspace", "市场部",
        "--password-stdin", "--json",
    ], input="a fine long passphrase\n")
    assert result.exit_code == 0, result.output
    with Zhiku(settings, workspace="市场部") as zk:
        assert zk.workspace_id not in (made_over_http, made_in_python)
