"""``zhiku share``: the same share links as the HTTP API, from the server's shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zhiku.core.settings import Settings
from zhiku.service import Zhiku
from zhiku.share.tokens import token_hash


def test_share_commands(cli: Any, tmp_path: Path) -> None:
    cli("kb", "create", "hr", "--embedder", "hashing")
    (tmp_path / "leave.md").write_text("# Leave\n\nFifteen days of paid leave.\n", "utf-8")
    cli("ingest", "--kb", "hr", str(tmp_path / "leave.md"))
    cli("apps", "create", "hr-bot", "--kb", "hr")
    refused = cli("share", "create", "hr-bot", code=2)
    assert "publish" in refused.output
    cli("apps", "publish", "hr-bot")
    made = json.loads(cli("share", "create", "hr-bot", "--name", "intranet", "--origin",
                          "https://intranet.example", "--password-stdin", "--json",
                          input="open sesame\n").stdout)
    assert made["path"] == f"/s/{made['token']}" and made["has_password"]
    assert made["allowed_origins"] == ["https://intranet.example"]
    listed = cli("share", "list", "hr-bot").output
    assert "intranet" in listed and made["token"] not in listed and "password" in listed
    rotated = json.loads(cli("share", "rotate", str(made["id"]), "--json").stdout)
    assert rotated["token"] != made["token"] and rotated["signing_secret"] is None
    cli("share", "disable", str(made["id"]))
    with Zhiku(Settings()) as zk:  # what the HTTP API reads: the same row
        link = zk.share.get(made["id"])
        assert not link.enabled and link.token_hint == rotated["token"][-4:]
        stored = zk.db.conn.execute("SELECT token_hash FROM share_links").fetchone()[0]
        assert stored == token_hash(rotated["token"])
    cli("share", "enable", str(made["id"]))
    cli("share", "delete", str(made["id"]))
    assert json.loads(cli("share", "list", "hr-bot", "--json").stdout) == []
    assert "does not exist" in cli("share", "delete", str(made["id"]), code=2).output


def test_share_an_agent_or_a_workflow(cli: Any, tmp_path: Path) -> None:
    with Zhiku(Settings()) as zk:
        zk.add_provider("local", base_url="http://127.0.0.1:9/v1", models=["m"], max_retries=0)
        zk.agents.create({"name": "Helper", "model": "local/m"}, slug="helper")
        zk.apps.publish("helper")
        zk.workflows.create("Form", {
            "nodes": [{"id": "start", "type": "start",
                       "inputs": [{"name": "a"}, {"name": "b"}]},
                      {"id": "end", "type": "end", "outputs": {"a": "start.a"}}],
            "edges": [{"source": "start", "target": "end"}]}, slug="form")
        zk.apps.publish("form")
    made = json.loads(cli("share", "create", "helper", "--json").stdout)
    assert (made["app_kind"], made["app_slug"]) == ("agent", "helper")
    listed = json.loads(cli("share", "list", "helper", "--json").stdout)
    assert [x["id"] for x in listed] == [made["id"]]
    assert "not chat-shaped" in cli("share", "create", "form", code=2).output
