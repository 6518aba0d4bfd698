"""A real ``zhiku serve`` process on 127.0.0.1: first-run set-up with ``zhiku admin init``, the
main flow over HTTP, and the official ``openai`` client (streaming and not) against it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import HANDBOOK

from serving import ZHIKU, admin_init, serve

pytestmark = pytest.mark.slow


@pytest.fixture
def server(zhiku_home: Path) -> Iterator[dict[str, Any]]:
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    key = admin_init(env, "owner@acme.example", "correct horse battery")
    again = subprocess.run([ZHIKU, "admin", "init", "--email", "owner@acme.example",
                            "--password-stdin"], input="correct horse battery\n",
                           capture_output=True, text=True, env=env)
    assert again.returncode != 0 and "already exists" in again.stderr
    with serve(env) as base:
        yield {"base": base, "key": key}


def test_flow_and_openai_client(server: dict[str, Any]) -> None:
    from openai import OpenAI

    h = {"Authorization": f"Bearer {server['key']}"}
    with httpx.Client(base_url=server["base"], headers=h, timeout=60) as c:
        assert c.post("/v1/kbs", json={"name": "hr"}).status_code == 201
        job = c.post("/v1/kbs/hr/documents",
                     files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
        with c.stream("GET", f"/v1/jobs/{job['id']}/events") as resp:
            events = [line for line in resp.iter_lines() if line.startswith("event:")]
        assert events[-1] == "event: done"
        assert c.get(f"/v1/jobs/{job['id']}").json()["status"] == "done"
        hits = c.post("/v1/search", json={"query": "paid annual leave"}).json()["hits"]
        assert hits[0]["source"] == "handbook.md"
        c.post("/v1/assistants", json={"slug": "hr-bot", "config": {"knowledge_bases": ["hr"]}})
        chat = c.post("/v1/assistants/hr-bot/chat",
                      json={"message": "How many days of paid annual leave?"}).json()
        assert "fifteen" in chat["answer"] and chat["citations"][0]["source"] == "handbook.md"
        fb = c.post(f"/v1/messages/{chat['message_id']}/feedback", json={"rating": "up"})
        assert fb.status_code == 201

    client = OpenAI(base_url=server["base"] + "/v1", api_key=server["key"])
    assert [m.id for m in client.models.list()] == ["hr-bot"]
    done = client.chat.completions.create(
        model="hr-bot",
        messages=[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": "How many days of paid annual leave?"}],
        temperature=0.1,
    )
    assert "fifteen" in (done.choices[0].message.content or "")
    assert done.usage is not None and done.usage.completion_tokens > 0
    citations = (done.model_extra or {})["citations"]
    assert citations[0]["source"] == "handbook.md" and citations[0]["chunk_id"]
    stream = client.chat.completions.create(
        model="hr-bot", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "What do expense claims need?"}],
    )
    text, extra, usage = "", [], None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        extra.extend((chunk.model_extra or {}).get("citations") or [])
        usage = chunk.usage or usage
    assert "receipt" in text and extra[0]["source"] == "handbook.md"
    assert usage is not None and usage.total_tokens > 0
    from openai import NotFoundError

    with pytest.raises(NotFoundError):
        client.chat.completions.create(model="nope",
                                       messages=[{"role": "user", "content": "hi"}])

    with httpx.Client(base_url=server["base"], headers=h, timeout=60) as c:
        usage_rows = c.get("/v1/usage", params={"group_by": "key"}).json()
        assert sum(r["requests"] for r in usage_rows) == 3
        assert "zhiku_http_requests_total" in c.get("/metrics").text
