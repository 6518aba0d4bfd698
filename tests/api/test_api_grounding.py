"""Ungrounded answers over HTTP: the chat API (JSON and SSE) and the OpenAI-compatible endpoint
(the official ``openai`` client, streaming and not) say whether an answer is grounded, and
apply the assistant's ``on_ungrounded`` policy to a scripted model that cites nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import HANDBOOK, Tenant, make_tenant, parse_sse, wait_job
from fastapi.testclient import TestClient

from scripted_llm import scripted_server
from zhiku.core.settings import Settings
from zhiku.service import Zhiku

QUESTION = "How many days of paid annual leave do new employees get?"
UNCITED = "New employees get about two weeks, I believe."
REFUSAL = "Ask HR."


@pytest.fixture
def bot(settings: Settings, client: TestClient) -> Iterator[tuple[Tenant, Any]]:
    """A tenant with the handbook and an assistant ``bot`` on a scripted server."""
    server = scripted_server.ScriptedServer().start()
    server.default = lambda req: scripted_server.Script(text=UNCITED)
    t = make_tenant(settings, "default")
    h = t.headers
    assert client.post("/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201
    job = client.post("/v1/kbs/hr/documents", headers=h, files=[
        ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
    assert wait_job(client, h, job["id"])["status"] == "done"
    with Zhiku(settings) as zk:
        zk.add_provider("scripted", base_url=server.url, models=["scripted-model"],
                        context_window=4096, max_retries=0)
    r = client.post("/v1/assistants", headers=h, json={"slug": "bot", "config": {
        "knowledge_bases": ["hr"], "model": "scripted/scripted-model",
        "refusal_message": REFUSAL}})
    assert r.status_code == 201, r.text
    assert r.json()["config"]["on_ungrounded"] == "warn"
    try:
        yield t, server
    finally:
        server.stop()


def _policy(client: TestClient, t: Tenant, policy: str) -> None:
    r = client.patch("/v1/assistants/bot", headers=t.headers, json={"config": {
        "knowledge_bases": ["hr"], "model": "scripted/scripted-model",
        "refusal_message": REFUSAL, "on_ungrounded": policy}})
    assert r.status_code == 200, r.text


EXPECTED = {  # policy: (grounded, refused, answer check)
    "warn": (False, False, lambda a: a == UNCITED),
    "extractive": (True, False, lambda a: "fifteen days" in a and "[1]" in a),
    "refuse": (True, True, lambda a: a == REFUSAL),
}


def test_an_unknown_policy_is_refused(client: TestClient, bot: tuple[Tenant, Any]) -> None:
    t, _ = bot
    r = client.patch("/v1/assistants/bot", headers=t.headers, json={"config": {
        "knowledge_bases": ["hr"], "on_ungrounded": "shrug"}})
    assert r.status_code in (400, 422)


@pytest.mark.parametrize("policy", ["warn", "extractive", "refuse"])
def test_chat_api_json_and_sse(client: TestClient, bot: tuple[Tenant, Any], policy: str) -> None:
    t, _ = bot
    _policy(client, t, policy)
    grounded, refused, check = EXPECTED[policy]
    out = client.post("/v1/assistants/bot/chat", headers=t.headers,
                      json={"message": QUESTION}).json()
    assert (out["grounded"], out["refused"]) == (grounded, refused) and check(out["answer"])
    assert out["ungrounded_reason"] == "no_citation" and out["ungrounded_action"] == policy
    assert out["flagged"] is True and bool(out["citations"]) == (policy == "extractive")

    with client.stream("POST", "/v1/assistants/bot/chat", headers=t.headers,
                       json={"message": QUESTION, "stream": True}) as resp:
        events = parse_sse("".join(resp.iter_text()))
    done = events[-1][1]
    tokens = "".join(d["text"] for k, d in events if k == "token")
    assert tokens == done["answer"] and check(done["answer"])
    assert (done["grounded"], done["ungrounded_action"]) == (grounded, policy)
    assert done["ungrounded_reason"] == "no_citation"
    msgs = client.get(f"/v1/conversations/{done['conversation_id']}/messages",
                      headers=t.headers).json()
    assert msgs[-1]["content"] == done["answer"]  # what the policy made is what is stored
    assert msgs[-1]["metadata"]["grounded"] is grounded
    assert msgs[-1]["metadata"]["ungrounded_action"] == policy


@pytest.mark.parametrize("policy", ["warn", "extractive", "refuse"])
def test_openai_endpoint_with_the_official_client(
    client: TestClient, bot: tuple[Tenant, Any], policy: str
) -> None:
    from openai import OpenAI

    t, _ = bot
    _policy(client, t, policy)
    grounded, refused, check = EXPECTED[policy]
    oa = OpenAI(base_url="http://testserver/v1", api_key=t.key, http_client=client)
    done = oa.chat.completions.create(model="bot", messages=[{"role": "user",
                                                              "content": QUESTION}])
    extra = done.model_extra or {}
    assert check(done.choices[0].message.content)
    assert (extra["grounded"], extra["refused"]) == (grounded, refused)
    assert extra["ungrounded_reason"] == "no_citation" and extra["ungrounded_action"] == policy
    assert bool(extra["citations"]) == (policy == "extractive")

    chunks = list(oa.chat.completions.create(
        model="bot", stream=True, messages=[{"role": "user", "content": QUESTION}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    last = chunks[-1].model_extra or {}
    assert check(text) and last["grounded"] is grounded
    assert (last["ungrounded_reason"], last["ungrounded_action"]) == ("no_citation", policy)
    if policy != "warn":
        assert "believe" not in text  # the uncited answer was never streamed


def test_a_cited_answer_is_grounded_on_every_face(
    client: TestClient, bot: tuple[Tenant, Any]
) -> None:
    from openai import OpenAI

    t, server = bot
    _policy(client, t, "refuse")
    server.default = lambda req: scripted_server.Script(text="New employees get fifteen days [1].")
    out = client.post("/v1/assistants/bot/chat", headers=t.headers,
                      json={"message": QUESTION}).json()
    assert out["grounded"] is True and out["ungrounded_reason"] is None
    assert out["ungrounded_action"] is None and out["answer"].endswith("[1].")
    oa = OpenAI(base_url="http://testserver/v1", api_key=t.key, http_client=client)
    done = oa.chat.completions.create(model="bot", messages=[{"role": "user",
                                                              "content": QUESTION}])
    assert (done.model_extra or {})["grounded"] is True
    assert done.choices[0].message.content == "New employees get fifteen days [1]."
