"""Zhiku as an MCP server, driven by the official SDK's client: over stdio (``zhiku mcp serve``)
and over streamable HTTP at ``/mcp`` of a real ``zhiku serve``. Two workspaces each hold a
knowledge base called ``handbook`` with different text; a key sees only its own workspace, a
key limited to one knowledge base reaches no other, and no key gets nothing. Published apps
are tools: an assistant, a chat-shaped workflow and an agent (on the scripted
OpenAI-compatible server); an unpublished or not chat-shaped workflow is not, and neither
are workflows and agents for a key limited to some names."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import pgtest
from hashing import CHEAP
from scripted_llm import scripted_server
from serving import ZHIKU, admin_init, serve
from zhiku.accounts.store import AccountStore
from zhiku.core.settings import Settings
from zhiku.service import Zhiku
from zhiku.store.db import open_database

pytest.importorskip("mcp")


pytestmark = pytest.mark.slow

FLOW = {
    "description": "Answers HR questions from the handbook.",
    "nodes": [
        {"id": "start", "type": "start",
         "inputs": [{"name": "q", "description": "the question"}]},
        {"id": "ans", "type": "answer_grounded", "knowledge_bases": ["handbook"],
         "question": "{{ start.q }}"},
        {"id": "out", "type": "answer", "text": "{{ ans.answer }}",
         "citations": "ans.citations"},
    ],
    "edges": [{"source": "start", "target": "ans"}, {"source": "ans", "target": "out"}],
}
TWO_INPUTS = {
    "nodes": [
        {"id": "start", "type": "start", "inputs": [{"name": "a"}, {"name": "b"}]},
        {"id": "out", "type": "answer", "text": "{{ start.a }} {{ start.b }}"},
    ],
    "edges": [{"source": "start", "target": "out"}],
}
AGENT_SAYS = "The agent read the handbook."

ACME = "Acme handbook: new employees get fifteen days of annual leave after probation."
GLOBEX = "Globex handbook: the cafeteria serves dumplings every Thursday."


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("mcp")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    env.update(ZHIKU_HOME=str(root / "home"), ZHIKU_EMBEDDER="hashing", ZHIKU_OCR="false")
    url = pgtest.fresh_database() if pgtest.BACKEND == "postgres" else None
    scripted = scripted_server.ScriptedServer().start()
    scripted.default = lambda _: scripted_server.Script(text=AGENT_SAYS)
    if url:
        env["ZHIKU_DATABASE_URL"] = url
    try:
        acme_key = admin_init(env, "owner@acme.example", "correct horse battery", "acme")
        globex_key = admin_init(env, "owner@globex.example", "correct horse battery", "globex")
        settings = Settings(home=root / "home", embedder="hashing", ocr=False, database_url=url)
        for workspace, text in (("acme", ACME), ("globex", GLOBEX)):
            doc = root / f"{workspace}.md"
            doc.write_text(f"# Handbook\n\n{text}\n", encoding="utf-8")
            secret = root / f"{workspace}-salaries.md"
            secret.write_text("# Salaries\n\nThe salary bands are confidential.\n",
                              encoding="utf-8")
            with Zhiku(settings, workspace=workspace) as zk:
                zk.create_kb("handbook", embedder="hashing")
                zk.ingest("handbook", [doc])
                zk.create_kb("salaries", embedder="hashing")
                zk.ingest("salaries", [secret])
                if workspace == "acme":
                    zk.create_assistant("HR bot", slug="hr-bot", knowledge_bases=["handbook"])
                    zk.publish_assistant("hr-bot")
                    zk.workflows.create("FAQ flow", FLOW, slug="faq-flow")
                    zk.workflows.publish("faq-flow")
                    zk.workflows.create("Draft flow", FLOW, slug="draft-flow")
                    zk.workflows.create("Two inputs", TWO_INPUTS, slug="two-inputs")
                    zk.workflows.publish("two-inputs")
                    zk.add_provider("scripted", base_url=scripted.url,
                                    models=["scripted-model"], context_window=8192,
                                    max_retries=0)
                    zk.agents.create({"name": "Helper", "model": "scripted/scripted-model",
                                      "instructions": "Help."}, slug="helper")
                    zk.agents.publish("helper")
        db = open_database(settings)
        try:
            auth = AccountStore(db, CHEAP)
            ws = auth.workspace_id("acme")
            assert ws is not None
            _, scoped_key = auth.create_key(ws, name="handbook only", access="read",
                                            kbs=["handbook"], assistants=None, created_by=None)
            _, bot_key = auth.create_key(ws, name="hr-bot only", access="read", kbs=None,
                                         assistants=["hr-bot"], created_by=None)
        finally:
            db.close()
        with serve(env) as base:
            yield {"base": base, "env": env, "acme": acme_key, "globex": globex_key,
                   "scoped": scoped_key, "bot": bot_key}
    finally:
        scripted.stop()
        if url:
            pgtest.drop_database(url)


def _http(base: str, key: str) -> tuple[str, str]:
    return (base, key)


def _run(transport: Any, calls: list[tuple[str, dict[str, Any] | None]]) -> list[Any]:
    """Connect with the SDK's client, list the tools, then make each call (None: list tools)."""
    from mcp import Client

    async def go() -> list[Any]:
        if isinstance(transport, tuple):  # (base URL, key): streamable HTTP with the key
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            base, key = transport
            async with httpx2.AsyncClient(
                headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as http:
                return await talk(streamable_http_client(f"{base}/mcp", http_client=http))
        return await talk(transport)

    async def talk(server: Any) -> list[Any]:
        out: list[Any] = []
        async with Client(server) as client:
            for name, arguments in calls:
                if name == "tools/list":
                    out.append(sorted(t.name for t in (await client.list_tools()).tools))
                else:
                    result = await client.call_tool(name, arguments or {})
                    text = result.content[0].text if result.content else "{}"
                    out.append({"error": result.is_error, "data": json.loads(text)})
        return out

    return anyio.run(go)


def test_http_lists_and_answers_within_the_keys_workspace(world: dict[str, Any]) -> None:
    tools, kbs, hits, answer = _run(_http(world["base"], world["acme"]), [
        ("tools/list", None),
        ("list_knowledge_bases", {}),
        ("search", {"query": "annual leave", "knowledge_bases": ["handbook"]}),
        ("ask", {"question": "How many days of annual leave do new employees get?",
                 "knowledge_bases": ["handbook"]}),
    ])
    assert {"search", "ask", "list_documents", "get_chunk", "list_knowledge_bases",
            "app_hr-bot"} <= set(tools)
    assert sorted(k["name"] for k in kbs["data"]) == ["handbook", "salaries"]
    assert not hits["error"] and "fifteen days" in hits["data"]["hits"][0]["text"]
    assert all("Globex" not in h["text"] for h in hits["data"]["hits"])
    assert not answer["data"]["refused"] and answer["data"]["citations"]
    assert "fifteen" in answer["data"]["answer"]


def test_http_chunks_and_documents_stay_in_their_workspace(world: dict[str, Any]) -> None:
    (globex_hits,) = _run(_http(world["base"], world["globex"]), [
        ("search", {"query": "dumplings", "knowledge_bases": ["handbook"]}),
    ])
    globex_chunk = globex_hits["data"]["hits"][0]["chunk_id"]
    docs, stolen, app = _run(_http(world["base"], world["acme"]), [
        ("list_documents", {"knowledge_base": "handbook"}),
        ("get_chunk", {"knowledge_base": "handbook", "chunk_id": globex_chunk}),
        ("app_hr-bot", {"question": "How many days of annual leave do new employees get?"}),
    ])
    assert [d["source"].endswith("acme.md") for d in docs["data"]["documents"]] == [True]
    assert stolen["error"] and stolen["data"]["error"] == "not_found"
    assert not app["error"] and app["data"]["citations"]
    (globex_tools,) = _run(_http(world["base"], world["globex"]), [("tools/list", None)])
    assert "app_hr-bot" not in globex_tools


def test_http_scoped_key_reaches_only_its_knowledge_base(world: dict[str, Any]) -> None:
    kbs, refused, bad_args = _run(_http(world["base"], world["scoped"]), [
        ("list_knowledge_bases", {}),
        ("search", {"query": "salary bands", "knowledge_bases": ["salaries"]}),
        ("search", {"query": "", "top_k": 1000}),
    ])
    assert [k["name"] for k in kbs["data"]] == ["handbook"]
    assert refused["error"] and refused["data"]["error"] == "forbidden"
    assert bad_args["error"] and "query" in bad_args["data"]["message"]


def test_http_without_a_valid_key_is_401(world: dict[str, Any]) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({}, {"Authorization": "Bearer zk_nope_nope"}):
        reply = httpx.post(f"{world['base']}/mcp", json=body, headers=headers)
        assert reply.status_code == 401, reply.text
        assert reply.headers["www-authenticate"] == "Bearer"


def test_stdio_serves_the_keys_workspace(world: dict[str, Any]) -> None:
    from mcp import StdioServerParameters

    env = dict(world["env"], ZHIKU_MCP_API_KEY=world["globex"])
    params = StdioServerParameters(command=ZHIKU, args=["mcp", "serve"], env=env)
    tools, kbs, hits = _run(params, [
        ("tools/list", None),
        ("list_knowledge_bases", {}),
        ("search", {"query": "annual leave dumplings", "knowledge_bases": ["handbook"]}),
    ])
    assert "app_hr-bot" not in tools and "search" in tools
    assert sorted(k["name"] for k in kbs["data"]) == ["handbook", "salaries"]
    assert hits["data"]["hits"] and all("Acme" not in h["text"] for h in hits["data"]["hits"])


def test_stdio_refuses_a_bad_key_at_start(world: dict[str, Any], tmp_path: Path) -> None:
    import subprocess

    env = dict(world["env"], ZHIKU_MCP_API_KEY="zk_bad_bad")
    done = subprocess.run([ZHIKU, "mcp", "serve"], env=env, capture_output=True, text=True,
                          input="", timeout=60)
    assert done.returncode != 0
    assert "invalid API key" in done.stderr and "Traceback" not in done.stderr


APPS = {"app_hr-bot", "app_faq-flow", "app_helper"}


def test_http_published_apps_are_tools_with_their_inputs(world: dict[str, Any]) -> None:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def listing() -> dict[str, Any]:
        async with httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {world['acme']}"}, timeout=60
        ) as http, Client(streamable_http_client(f"{world['base']}/mcp",
                                                 http_client=http)) as client:
            return {t.name: t for t in (await client.list_tools()).tools}

    tools = anyio.run(listing)
    assert set(tools) >= APPS
    assert not {"app_draft-flow", "app_two-inputs"} & set(tools)  # unpublished, not chat
    flow = tools["app_faq-flow"]
    assert flow.description is not None and flow.description.startswith(
        "Answers HR questions from the handbook")
    assert flow.input_schema["properties"] == {"q": {"type": "string",
                                                     "description": "the question"}}
    assert flow.input_schema["required"] == ["q"]
    assert tools["app_helper"].input_schema["required"] == ["query"]
    flow_answer, agent_answer, bad = _run(_http(world["base"], world["acme"]), [
        ("app_faq-flow", {"q": "How many days of annual leave do new employees get?"}),
        ("app_helper", {"query": "What does the handbook say?"}),
        ("app_faq-flow", {"question": "wrong argument"}),
    ])
    assert not flow_answer["error"], flow_answer
    assert "fifteen days" in flow_answer["data"]["answer"]
    citation = flow_answer["data"]["citations"][0]
    assert citation["source"].endswith("acme.md") and citation["chunk_id"]
    assert not agent_answer["error"] and agent_answer["data"]["answer"] == AGENT_SAYS
    assert bad["error"] and bad["data"]["error"] == "invalid_request"
    assert "question" in bad["data"]["message"]


def test_http_apps_stay_in_their_workspace_and_scope(world: dict[str, Any]) -> None:
    (globex_tools, stolen) = _run(_http(world["base"], world["globex"]), [
        ("tools/list", None), ("app_faq-flow", {"q": "annual leave"})])
    assert not APPS & set(globex_tools)
    assert stolen["error"] and stolen["data"]["error"] == "not_found"
    bot_tools, bot_flow, bot_answer = _run(_http(world["base"], world["bot"]), [
        ("tools/list", None), ("app_faq-flow", {"q": "annual leave"}),
        ("app_hr-bot", {"question": "How many days of annual leave do new employees get?"}),
    ])
    assert "app_hr-bot" in bot_tools and not {"app_faq-flow", "app_helper"} & set(bot_tools)
    assert bot_flow["error"] and bot_flow["data"]["error"] == "not_found"
    assert not bot_answer["error"]
    (scoped_tools,) = _run(_http(world["base"], world["scoped"]), [("tools/list", None)])
    assert not {"app_faq-flow", "app_helper"} & set(scoped_tools)


def test_stdio_lists_and_runs_the_keys_apps(world: dict[str, Any]) -> None:
    from mcp import StdioServerParameters

    env = dict(world["env"], ZHIKU_MCP_API_KEY=world["acme"])
    params = StdioServerParameters(command=ZHIKU, args=["mcp", "serve"], env=env)
    tools, answer = _run(params, [
        ("tools/list", None),
        ("app_faq-flow", {"q": "How many days of annual leave do new employees get?"}),
    ])
    assert set(tools) >= APPS and "app_draft-flow" not in tools
    assert not answer["error"] and "fifteen days" in answer["data"]["answer"]
    assert answer["data"]["citations"]
    env = dict(world["env"], ZHIKU_MCP_API_KEY=world["bot"])
    (bot_tools,) = _run(StdioServerParameters(command=ZHIKU, args=["mcp", "serve"], env=env),
                        [("tools/list", None)])
    assert "app_hr-bot" in bot_tools and "app_faq-flow" not in bot_tools


def test_http_app_tools_apply_the_workspaces_moderation(world: dict[str, Any]) -> None:
    from zhiku.moderation.policy import ModerationPolicy, WordRule

    settings = Settings(home=Path(world["env"]["ZHIKU_HOME"]), embedder="hashing", ocr=False,
                        database_url=world["env"].get("ZHIKU_DATABASE_URL"))
    reply = "Not through this tool."
    with Zhiku(settings, workspace="acme") as zk:
        zk.moderation.set_policy(ModerationPolicy(block_reply=reply, words=[
            WordRule(word="salary", scope="input"),
            WordRule(word="fifteen", action="mask", scope="output")]))
    try:
        flow, agent = _run(_http(world["base"], world["acme"]), [
            ("app_faq-flow", {"q": "How many days of annual leave do new employees get?"}),
            ("app_helper", {"query": "What is the CEO's salary?"}),
        ])
        assert not flow["error"] and "fifteen" not in json.dumps(flow["data"])
        assert "******* days" in flow["data"]["answer"]
        assert agent["data"]["answer"] == reply
        with Zhiku(settings, workspace="acme") as zk:
            hits = {(h["direction"], h["action"], h["app"], h["channel"])
                    for h in zk.moderation.hits()}
        assert hits >= {("output", "mask", "faq-flow", "mcp"),
                        ("input", "block", "helper", "mcp")}
    finally:
        with Zhiku(settings, workspace="acme") as zk:
            zk.moderation.clear()
