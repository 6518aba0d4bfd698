"""One model of assistants and chat: what the HTTP API creates and stores is what ``Zhiku``
and the CLI see (issue 3's assistants, conversations, model calls), and feedback lands in the
evaluation answer log (issue 7) keyed by the chat message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import HANDBOOK, Tenant, make_tenant, parse_sse, wait_job
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from scripted_llm import Script, scripted_server
from zhiku.apps.types import AssistantConfig
from zhiku.chat.engine import ChatTurn
from zhiku.chat.store import Owner
from zhiku.cli.main import create_app as create_cli
from zhiku.core.errors import InvalidInput, NotFound
from zhiku.core.settings import Settings
from zhiku.evals import feedback
from zhiku.service import Zhiku

QUESTION = "How many days of paid annual leave do new employees get?"


@pytest.fixture
def home_tenant(settings: Settings, client: TestClient) -> Tenant:
    """A tenant on the ``default`` workspace: the one the CLI opens."""
    t = make_tenant(settings, "default")
    h = t.headers
    assert client.post("/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201
    job = client.post("/v1/kbs/hr/documents", headers=h, files=[
        ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
    assert wait_job(client, h, job["id"])["status"] == "done"
    return t


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("ZHIKU_HOME", str(settings.home))
    monkeypatch.setenv("ZHIKU_EMBEDDER", "hashing")
    yield CliRunner()


def test_an_api_assistant_is_the_one_zhiku_and_the_cli_see(
    client: TestClient, home_tenant: Tenant, settings: Settings, cli: CliRunner
) -> None:
    h = home_tenant.headers
    r = client.post("/v1/assistants", headers=h, json={
        "slug": "hr-bot", "name": "HR Bot",
        "config": {"knowledge_bases": ["hr"], "retrieval": {"top_k": 4, "min_relevance": 0.2},
                   "refusal_message": "Ask HR."}})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["config"]["model"] is None and made["published"] is None
    r = client.post("/v1/assistants/hr-bot/publish", headers=h, json={"note": "first"})
    assert r.json()["published_version"] == 1
    r = client.patch("/v1/assistants/hr-bot", headers=h, json={"config": {
        "knowledge_bases": ["hr"], "temperature": 0.7, "retrieval": {"top_k": 3}}})
    assert r.status_code == 200 and r.json()["published"]["temperature"] == 0.2

    with Zhiku(settings) as zk:
        a = zk.get_assistant("hr-bot")
        assert a.id == made["id"] and a.name == "HR Bot" and a.published_version == 1
        assert a.draft.temperature == 0.7 and a.draft.retrieval.top_k == 3
        assert a.published is not None and a.published.retrieval.top_k == 4
        assert a.live.refusal_message == "Ask HR." and a.live.model is None
        assert zk.llm.assistants.version("hr-bot", 1) == AssistantConfig.model_validate(
            client.get("/v1/assistants/hr-bot/versions", headers=h).json()[0]["config"])
        # and the other way round: made in Python, listed by the API and as an OpenAI model
        zk.create_assistant("Py Bot", knowledge_bases=["hr"])
    shown = cli.invoke(create_cli(), ["apps", "show", "hr-bot"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == {**a.to_dict()}
    listed = cli.invoke(create_cli(), ["apps", "list"])
    assert "hr-bot" in listed.stdout and "model extractive" in listed.stdout
    assert {m["id"] for m in client.get("/v1/models", headers=h).json()["data"]} == {
        "hr-bot", "py-bot"}
    assert client.get("/v1/assistants/Py Bot", headers=h).status_code == 404  # slugs only
    assert client.delete("/v1/assistants/py-bot", headers=h).status_code == 200
    with Zhiku(settings) as zk:
        assert [x.slug for x in zk.list_assistants()] == ["hr-bot"]


def test_api_chats_are_zhiku_conversations_and_feedback_reaches_the_answer_log(
    client: TestClient, home_tenant: Tenant, settings: Settings, cli: CliRunner
) -> None:
    h = home_tenant.headers
    client.post("/v1/assistants", headers=h,
                json={"slug": "hr-bot", "config": {"knowledge_bases": ["hr"]}})
    with client.stream("POST", "/v1/assistants/hr-bot/chat", headers=h,
                       json={"message": QUESTION, "stream": True}) as resp:
        events = parse_sse("".join(resp.iter_text()))
    kinds = [k for k, _ in events]
    assert kinds[0] == "token" and kinds[-3:] == ["citations", "usage", "done"]
    tokens = [d["text"] for k, d in events if k == "token"]
    done = events[-1][1]
    assert "".join(tokens) == done["answer"] and "fifteen days" in done["answer"]
    cites = events[-3][1]
    assert cites[0]["source"] == "handbook.md" and "fifteen" in cites[0]["quote"]
    cid, mid = done["conversation_id"], done["message_id"]

    with Zhiku(settings) as zk:
        assert [c["id"] for c in zk.list_conversations("hr-bot")] == [cid]
        stored = zk.conversation(cid)
        assert [(m.role, m.id) for m in stored][-1] == ("assistant", mid)
        assert stored[0].content == QUESTION and stored[1].content == done["answer"]
        assert stored[1].citations == cites and stored[1].metadata["model"] == "extractive"
        calls = zk.model_calls(cid)
        assert [(c["purpose"], c["provider"], c["model"]) for c in calls] == [
            ("answer", "zhiku", "extractive")]
        assert calls[0]["assistant_id"] == zk.get_assistant("hr-bot").id
        # a turn taken in Python continues the conversation the API started
        turn = zk.chat("hr-bot", "What do expense claims need?", cid)
        assert isinstance(turn, ChatTurn)
    msgs = client.get(f"/v1/conversations/{cid}/messages", headers=h).json()
    assert [m["role"] for m in msgs] == ["user", "assistant"] * 2
    assert "receipt" in msgs[-1]["content"] and msgs[-1]["id"] == turn.message_id

    r = client.post(f"/v1/messages/{mid}/feedback", headers=h,
                    json={"rating": "down", "corrected_answer": "Fifteen days."})
    assert r.status_code == 201, r.text
    assert r.json()["message_id"] == mid and r.json()["assistant"] == "hr-bot"
    first = r.json()["answer_id"]
    r = client.post(f"/v1/messages/{mid}/feedback", headers=h, json={"rating": "up"})
    assert r.json()["answer_id"] == first and r.json()["rating"] == 1  # one log entry
    assert client.post(f"/v1/messages/{msgs[0]['id']}/feedback", headers=h,
                       json={"rating": "up"}).status_code == 404  # a user message
    with Zhiku(settings) as zk:
        logged = feedback.list_answers(zk, feedback.FeedbackFilter(target="app:hr-bot"))
        assert len(logged) == 1 and logged[0].message_id == mid and logged[0].rating == 1
        assert logged[0].question == QUESTION and logged[0].citations[0]["source"] == "handbook.md"
    out = cli.invoke(create_cli(), ["feedback", "list", "--app", "hr-bot"])
    assert out.exit_code == 0 and QUESTION[:40] in out.stdout

    # deleting the conversation keeps the feedback, detached from the message
    assert client.delete(f"/v1/conversations/{cid}", headers=h).status_code == 200
    fb = client.get("/v1/feedback", headers=h).json()
    assert len(fb) == 1 and fb[0]["message_id"] is None and fb[0]["rating"] == 1

    usage = client.get("/v1/usage", headers=h, params={"group_by": "assistant"}).json()
    assert usage == [{**usage[0], "group": "hr-bot", "requests": 2, "calls": 2}]
    by_key = client.get("/v1/usage", headers=h, params={"group_by": "key"}).json()
    assert [(r["requests"], r["calls"]) for r in by_key] == [(1, 1)]  # the Python turn: no key


def test_an_llm_assistant_answers_through_the_api(
    client: TestClient, home_tenant: Tenant, settings: Settings
) -> None:
    server = scripted_server.ScriptedServer().start()
    try:
        with Zhiku(settings) as zk:
            zk.add_provider("scripted", base_url=server.url, models=["scripted-model"],
                            context_window=4096, price_input=2.0, price_output=8.0,
                            max_retries=0)
        h = home_tenant.headers
        r = client.post("/v1/assistants", headers=h, json={"slug": "llm-bot", "config": {
            "knowledge_bases": ["hr"], "model": "nowhere/m"}})
        assert r.status_code == 400 and "nowhere" in r.json()["error"]["message"]
        r = client.post("/v1/assistants", headers=h, json={"slug": "llm-bot", "config": {
            "knowledge_bases": ["hr"], "model": "scripted/scripted-model"}})
        assert r.status_code == 201, r.text
        server.push(Script(text="New employees get fifteen days [1].", usage=(900, 12)))
        chat = client.post("/v1/assistants/llm-bot/chat", headers=h,
                           json={"message": QUESTION}).json()
        assert chat["model"] not in ("", "extractive") and not chat["refused"]
        assert chat["citations"][0]["source"] == "handbook.md"
        assert chat["usage"]["input_tokens"] == 900 and chat["usage"]["output_tokens"] == 12
        assert chat["usage"]["cost"] == pytest.approx((900 * 2.0 + 12 * 8.0) / 1e6)
        # OpenAI style: the client's history makes the follow-up a rewrite, then an answer
        server.push(Script(text="How many leave days do managers get?", usage=(100, 9)),
                    Script(text="It does not say [1].", reasoning="Look at doc 1.",
                           usage=(800, 6)))
        with client.stream("POST", "/v1/chat/completions", headers=h, json={
            "model": "llm-bot", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": QUESTION},
                         {"role": "assistant", "content": chat["answer"]},
                         {"role": "user", "content": "And managers?"}]}) as resp:
            lines = [ln[6:] for ln in resp.iter_lines() if ln.startswith("data: ")]
        chunks = [json.loads(ln) for ln in lines[:-1]]
        assert lines[-1] == "[DONE]"
        reasoning = "".join(c["choices"][0]["delta"].get("reasoning_content", "")
                            for c in chunks if c["choices"])
        assert reasoning == "Look at doc 1." and chunks[-1]["usage"]["prompt_tokens"] == 900
        rewrite = server.chat_requests[-2]["messages"][-1]["content"]
        assert "And managers?" in rewrite
        with Zhiku(settings) as zk:
            calls = zk.model_calls()
            # the OpenAI-style request is stored as a conversation of its own, for the log
            assert [(c["purpose"], c["conversation_id"] is None) for c in calls] == [
                ("answer", False), ("rewrite", False), ("answer", False)]
            assert calls[1]["conversation_id"] != chat["conversation_id"]
            assert zk.conversation(chat["conversation_id"])[1].content == chat["answer"]
        by_key = client.get("/v1/usage", headers=h, params={"group_by": "key"}).json()
        assert [(r["requests"], r["calls"], r["input_tokens"]) for r in by_key] == [
            (2, 3, 1800)]
    finally:
        server.stop()


def test_assistant_models_are_checked_the_same_through_python_and_http(
    client: TestClient, home_tenant: Tenant, settings: Settings
) -> None:
    h = home_tenant.headers
    with Zhiku(settings) as zk:
        zk.add_provider("rr", base_url="http://127.0.0.1:9/v1", models=["rank-1"],
                        kind="rerank")
        zk.add_provider("chatp", base_url="http://127.0.0.1:9/v1", models=["m"])
        bad: list[tuple[dict[str, Any], str]] = [
            ({"model": "nosuchprovider/x"}, "nosuchprovider"),
            ({"model": "rr/rank-1"}, "is a reranker"),
            ({"model": "chatp/m", "fallback_models": ["nosuchprovider/y"]}, "nosuchprovider"),
            ({"retrieval": {"reranker": "nosuchprovider/r"}}, "nosuchprovider"),
        ]
        for config, message in bad:
            with pytest.raises(InvalidInput, match=message):
                zk.create_assistant("Bot", slug="bot", knowledge_bases=["hr"], **config)
            r = client.post("/v1/assistants", headers=h, json={
                "slug": "bot", "config": {"knowledge_bases": ["hr"], **config}})
            assert r.status_code == 400 and message in r.json()["error"]["message"], r.text
        assert zk.list_assistants() == []
        zk.create_assistant("Bot", slug="bot", knowledge_bases=["hr"],
                            retrieval={"reranker": "rr/rank-1"})
        with pytest.raises(InvalidInput, match="nosuchprovider"):
            zk.update_assistant("bot", model="nosuchprovider/x")
        r = client.patch("/v1/assistants/bot", headers=h, json={
            "config": {"knowledge_bases": ["hr"], "model": "nosuchprovider/x"}})
        assert r.status_code == 400 and "nosuchprovider" in r.text
        with pytest.raises(NotFound):
            zk.update_assistant("bot", knowledge_bases=["nope"])
        assert zk.get_assistant("bot").draft.model is None
        assert zk.update_assistant("bot", name="Renamed").name == "Renamed"


def test_one_rating_vocabulary_for_the_cli_and_http(
    client: TestClient, home_tenant: Tenant, settings: Settings, cli: CliRunner
) -> None:
    h = home_tenant.headers
    client.post("/v1/assistants", headers=h,
                json={"slug": "hr-bot", "config": {"knowledge_bases": ["hr"]}})
    mids = [client.post("/v1/assistants/hr-bot/chat", headers=h,
                        json={"message": QUESTION}).json()["message_id"] for _ in range(2)]
    for mid, name in zip(mids, ["neutral", "none"], strict=True):  # none: the older name
        r = client.post(f"/v1/messages/{mid}/feedback", headers=h, json={"rating": name})
        assert r.status_code == 201 and r.json()["rating"] == 0, r.text
    r = client.post(f"/v1/messages/{mids[0]}/feedback", headers=h, json={"rating": "meh"})
    assert r.status_code == 422
    for name in ("neutral", "none"):
        out = cli.invoke(create_cli(), ["feedback", "list", "--app", "hr-bot", "--rating", name,
                                        "--json"])
        assert out.exit_code == 0, out.output
        assert len(json.loads(out.stdout)) == 2
    answer_id = str(client.get("/v1/feedback", headers=h).json()[0]["answer_id"])
    for args, value in ((["--rating", "up"], 1), (["--rating", "neutral"], 0), (["--down"], -1),
                        (["--rating", "none"], 0)):
        out = cli.invoke(create_cli(), ["feedback", "add", answer_id, *args])
        assert out.exit_code == 0, out.output
        rated = {r["answer_id"]: r["rating"] for r in client.get("/v1/feedback", headers=h).json()}
        assert rated[int(answer_id)] == value
    for args in (["--rating", "meh"], ["--up", "--rating", "down"]):
        out = cli.invoke(create_cli(), ["feedback", "add", answer_id, *args])
        assert out.exit_code == 2 and "rating" in out.output
    with Zhiku(settings) as zk:  # and the Python API takes the same names
        assert zk.rate_reply(mids[1], "up").rating == 1
        with pytest.raises(InvalidInput, match="up, down or neutral"):
            zk.rate_reply(mids[1], "meh")
        with pytest.raises(NotFound):
            zk.rate_reply(mids[1] - 1, "up")  # a question, not an answer


def test_python_chat_with_history_accounting_and_usage_match_http(
    client: TestClient, home_tenant: Tenant, settings: Settings, cli: CliRunner
) -> None:
    h = home_tenant.headers
    client.post("/v1/assistants", headers=h,
                json={"slug": "hr-bot", "config": {"knowledge_bases": ["hr"]}})
    client.post("/v1/assistants/hr-bot/chat", headers=h, json={"message": QUESTION})
    with Zhiku(settings) as zk:
        turn = zk.chat("hr-bot", QUESTION, store=False,
                       history=[{"role": "user", "content": "Hello"}])
        assert turn.conversation_id is None and "fifteen" in turn.answer.answer
        stream = zk.chat("hr-bot", QUESTION, stream=True, store=False, endpoint="python",
                         owner=Owner(user_id=None, key_id=None))
        assert stream.usage is None
        assert list(stream)[-1].answer is not None
        assert stream.usage is not None and stream.usage.output_tokens > 0
        assert zk.list_conversations("hr-bot") and len(zk.list_conversations()) == 1
        per_assistant = zk.usage("assistant")
        per_key = zk.usage("key")
        series = zk.usage("assistant", bucket="hour", since="2000-01-01")
    r = client.get("/v1/usage", headers=h, params={"group_by": "assistant"}).json()
    assert [(x["group"], x["requests"]) for x in r] == [
        (u["group"], u["requests"]) for u in per_assistant] == [("hr-bot", 3)]
    r = client.get("/v1/usage", headers=h, params={"group_by": "key"}).json()
    assert [(x["group"], x["requests"]) for x in r] == [
        (u["group"], u["requests"]) for u in per_key]
    assert [(x["group"] is None, x["requests"]) for x in r] == [
        (True, 1), (False, 1)]  # the Python request asked with no key
    points = client.get("/v1/usage/series", headers=h, params={"bucket": "hour"}).json()["points"]
    assert [(p["bucket"], p["requests"]) for p in points] == [
        (s["bucket"], s["requests"]) for s in series]
    with Zhiku(settings) as zk, pytest.raises(InvalidInput):
        zk.usage("colour")  # type: ignore[arg-type]
    out = cli.invoke(create_cli(), ["usage", "--by", "key", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == per_key
    out = cli.invoke(create_cli(), ["usage", "--bucket", "hour", "--since", "2000-01-01"])
    assert out.exit_code == 0 and "hr-bot" in out.stdout, out.output
    assert cli.invoke(create_cli(), ["usage", "--by", "colour"]).exit_code == 2
