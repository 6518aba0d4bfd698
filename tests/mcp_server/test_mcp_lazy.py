"""The server loads the MCP SDK on the first request to ``/mcp``, not at start: a server that
nobody reaches over MCP never holds its modules. Checked in a fresh interpreter (this test
process has the SDK loaded by other tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mcp")

SCRIPT = r"""
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from zhiku.accounts.store import AccountStore
from zhiku.api.app import create_app
from zhiku.core.settings import Settings
from zhiku.service import Zhiku
from zhiku.store.db import open_database

home = Path(sys.argv[1])
settings = Settings(home=home, embedder="hashing", ocr=False)
with Zhiku(settings):
    pass
db = open_database(settings)
accounts = AccountStore(db)
_, key = accounts.create_key(accounts.workspace_id("default"), name="t", access="admin",
                             kbs=None, assistants=None, created_by=None)
db.close()
loaded = lambda: sorted(m for m in ("mcp", "mcp.server") if m in sys.modules)
stages = {}
with TestClient(create_app(settings, worker=False)) as client:
    stages["started"] = loaded()
    client.get("/v1/kbs", headers={"Authorization": f"Bearer {key}"}).raise_for_status()
    stages["after an API call"] = loaded()
    stages["no key"] = client.post("/mcp", json={}).status_code
    stages["after a refused MCP call"] = loaded()
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}}
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"}
    for n in (1, 2):
        answer = client.post("/mcp", json=hello, headers=headers)
        info = answer.json()["result"]["serverInfo"]
        stages[f"initialize {n}"] = [answer.status_code, info["name"]]
    stages["after MCP calls"] = loaded()
print(json.dumps(stages))
"""


def test_the_sdk_loads_on_the_first_mcp_request(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "home")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    stages = json.loads(done.stdout.strip().splitlines()[-1])
    assert stages["started"] == []
    assert stages["after an API call"] == []
    assert stages["no key"] == 401
    assert stages["after a refused MCP call"] == []
    assert stages["initialize 1"][0] == 200
    assert stages["initialize 2"] == stages["initialize 1"]
    assert stages["after MCP calls"] == ["mcp", "mcp.server"]
