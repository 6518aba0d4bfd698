"""Share links to agents and chat-shaped workflows over real HTTP (uvicorn on 127.0.0.1, models
on the scripted OpenAI-compatible server): made at ``/v1/apps/{slug}/share-links``, run
through the one app surface by the public chat (JSON and SSE), with the workspace's
moderation on the link's channel; a workflow that is not chat-shaped cannot be shared."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from api_helpers import api_settings, parse_sse
from share_helpers import Site, seed_site, served

from scripted_llm import Script, scripted_server
from zhiku.core.settings import Settings
from zhiku.share.tokens import identity_signature

pytestmark = pytest.mark.shared_server
MODEL = "scripted/scripted-model"
CHAT_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start", "inputs": [{"name": "question"}]},
        {"id": "llm", "type": "llm", "model": MODEL, "prompt": "{{ start.question }}"},
        {"id": "answer", "type": "answer", "text": "{{ llm.text }}"},
    ],
    "edges": [{"source": "start", "target": "llm"}, {"source": "llm", "target": "answer"}],
}
FORM_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start",
         "inputs": [{"name": "name"}, {"name": "age", "type": "integer"}]},
        {"id": "end", "type": "end", "outputs": {"who": "start.name"}},
    ],
    "edges": [{"source": "start", "target": "end"}],
}
KINDS = {"chatflow": "workflow", "helper": "agent"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory,
          make_settings: Callable[..., Settings]) -> Iterator[tuple[Site, Any]]:
    home = tmp_path_factory.mktemp("share-apps")
    base = api_settings(home)
    scripted = scripted_server.ScriptedServer().start()
    address = scripted.url.split("://", 1)[1].split("/", 1)[0]
    settings = make_settings(home, api_url_allowlist=[address], **{
        k: getattr(base, k) for k in ("embedder", "api_rate_limit_per_minute", "ocr")})
    try:
        with ExitStack() as stack:
            site = seed_site(settings, [stack.enter_context(served(settings))])
            site.api("POST", "/v1/providers", 201, json={
                "name": "scripted", "base_url": scripted.url, "models": ["scripted-model"],
                "max_retries": 0})
            site.api("POST", "/v1/workflows", 201, json={
                "name": "Chat flow", "slug": "chatflow", "definition": CHAT_FLOW})
            site.api("POST", "/v1/workflows", 201, json={
                "name": "Form", "slug": "form", "definition": FORM_FLOW})
            site.api("POST", "/v1/workflows", 201, json={
                "name": "Draft", "slug": "draft", "definition": CHAT_FLOW})
            site.api("POST", "/v1/agents", 201, json={
                "name": "Helper", "slug": "helper", "config": {"model": MODEL}})
            for slug in ("chatflow", "form", "helper"):
                site.api("POST", f"/v1/apps/{slug}/publish", json={})
            yield site, scripted
    finally:
        scripted.stop()


def _visitor(site: Site, slug: str) -> tuple[str, dict[str, Any]]:
    link = site.api("POST", f"/v1/apps/{slug}/share-links", 201, json={"name": slug})
    return link["token"], site.session(link["token"]).json()


@pytest.mark.parametrize("slug", sorted(KINDS))
def test_a_visitor_runs_a_shared_workflow_or_agent(world: tuple[Site, Any], slug: str) -> None:
    site, scripted = world
    token, session = _visitor(site, slug)
    assert session["title"] in ("Chat flow", "Helper") and session["channel"] == "share"
    listed = site.api("GET", f"/v1/apps/{slug}/share-links")
    assert [(x["app"], x["app_kind"]) for x in listed] == [(slug, KINDS[slug])]
    before = len(site.api("GET", f"/v1/apps/{slug}/runs"))
    scripted.push(Script(text="Answered by the app.", usage=(9, 4)))
    answer = site.chat(token, session["token"], "Hello?")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["answer"] == "Answered by the app." and body["conversation_id"] is None
    assert body["model"] == "" and body["usage"]["cost"] == 0  # nothing of the workspace
    assert scripted.chat_requests[-1]["messages"][-1]["content"].endswith("Hello?")
    scripted.push(Script(text="Streamed by the app."))
    streamed = site.chat(token, session["token"], "Again?", stream=True)
    events = parse_sse(streamed.text)
    assert "".join(d["text"] for n, d in events if n == "token") == "Streamed by the app."
    assert events[-1][0] == "done" and events[-1][1]["answer"] == "Streamed by the app."
    assert len(site.api("GET", f"/v1/apps/{slug}/runs")) == before + 2  # the owners see them
    # an agent or a workflow keeps no conversation a visitor could continue
    assert site.chat(token, session["token"], "More?", conversation_id=1).status_code == 404


def test_what_cannot_be_shared(world: tuple[Site, Any]) -> None:
    site, _ = world
    form = site.api("POST", "/v1/apps/form/share-links", 400, json={})
    assert "not chat-shaped" in form["error"]["message"]
    site.api("POST", "/v1/apps/draft/share-links", 409, json={})
    site.api("POST", "/v1/apps/nothing/share-links", 404, json={})
    key = site.api("POST", "/v1/keys", 201, json={"name": "r", "access": "read"})["key"]
    r = httpx.post(f"{site.base}/v1/apps/helper/share-links", json={},
                   headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403
    # the assistant is reached through the same route, and its conversations continue
    token, session = _visitor(site, site.slug)
    first = site.chat(token, session["token"]).json()
    again = site.chat(token, session["token"], "And after probation?",
                      conversation_id=first["conversation_id"]).json()
    assert first["conversation_id"] and again["conversation_id"] == first["conversation_id"]


def test_moderation_applies_on_shared_workflows_and_agents(world: tuple[Site, Any]) -> None:
    site, scripted = world
    reply = "Not on this page."
    site.api("PUT", "/v1/moderation", json={"block_reply": reply, "words": [
        {"word": "salary", "scope": "input"},
        {"word": "secret", "scope": "output"}]})
    try:
        for slug in sorted(KINDS):
            token, session = _visitor(site, slug)
            blocked = site.chat(token, session["token"], "What is my salary?").json()
            assert blocked["answer"] == reply and blocked["moderated"] is True
            scripted.push(Script(text="Well, the se" + "cret is out, and here is more text."))
            streamed = site.chat(token, session["token"], "Tell me", stream=True).text
            assert "secret" not in streamed and reply in streamed
        hits = site.api("GET", "/v1/moderation/hits")
        assert {(h["app"], h["channel"]) for h in hits} == {
            (slug, "share") for slug in KINDS}
    finally:
        site.api("DELETE", "/v1/moderation")


def test_a_signed_identity_follows_the_user_into_runs_and_conversations(
        world: tuple[Site, Any]) -> None:
    site, scripted = world
    exp = int(time.time()) + 600
    for slug in ("helper", site.slug):
        link = site.api("POST", f"/v1/apps/{slug}/share-links", 201, json={})
        secret, token = link["signing_secret"], link["token"]
        sig = identity_signature(secret, "e1024@corp", exp, "王小明")
        session = site.session(token, user="e1024@corp", exp=exp, name="王小明", sig=sig).json()
        assert (session["user"], session["name"]) == ("e1024@corp", "王小明")
        # the name is part of what is signed: another name, or none, is refused
        forged = site.session(token, 401, user="e1024@corp", exp=exp, name="CEO", sig=sig)
        assert "signature" in forged.json()["error"]["message"]
        site.session(token, 401, user="e1024@corp", exp=exp, sig=sig)
        old = int(time.time()) - 5
        site.session(token, 401, user="e1024@corp", exp=old, name="王小明",
                     sig=identity_signature(secret, "e1024@corp", old, "王小明"))
        scripted.push(Script(text="Hello, colleague."))
        answer = site.chat(token, session["token"], "Hi?").json()
        if slug == "helper":
            run = site.api("GET", "/v1/apps/helper/runs")[0]
            assert (run["channel"], run["share_link_id"], run["external_user"],
                    run["external_name"]) == ("share", link["id"], "e1024@corp", "王小明")
        else:
            conv = site.api("GET", f"/v1/conversations/{answer['conversation_id']}")
            assert (conv["external_user"], conv["external_name"]) == ("e1024@corp", "王小明")
    # runs from the API record no visitor
    scripted.push(Script(text="Direct."))
    site.api("POST", "/v1/apps/helper/run", json={"inputs": {"query": "hi"}})
    assert site.api("GET", "/v1/apps/helper/runs")[0]["channel"] is None


def test_a_run_stopped_by_moderation_still_names_its_visitor(world: tuple[Site, Any]) -> None:
    site, scripted = world
    site.api("PUT", "/v1/moderation", json={"words": [{"word": "secret", "scope": "output"}]})
    try:
        token, session = _visitor(site, "chatflow")
        scripted.push(Script(text="The se" + "cret is out, with a long tail of more words."))
        assert "secret" not in site.chat(token, session["token"], "Tell me", stream=True).text
        run = site.api("GET", "/v1/apps/chatflow/runs")[0]
        assert run["channel"] == "share" and run["share_link_id"] is not None
    finally:
        site.api("DELETE", "/v1/moderation")
