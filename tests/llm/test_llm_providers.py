"""Providers as a workspace resource (``zk.providers``), on either backend: the key is stored
encrypted and never shown, the test call reports latency or the exact error (key masked), each
workspace has its own providers and default chat model, and new assistants take the default."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llm_scripted_server import Script, ScriptedServer

from zhiku.core.errors import InvalidInput, NotFound
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.runtime import Runtime

LEAVE = "# Leave\n\nEmployees get fifteen days of paid annual leave each year.\n"
KEY = "sk-test-0123456789abcdef-SECRET"


@pytest.fixture
def runtime(zhiku_home: Path) -> Iterator[Runtime]:
    with Runtime(Settings(home=zhiku_home, embedder="hashing")) as rt:
        yield rt


def test_key_is_stored_encrypted_and_never_shown(runtime: Runtime, scripted: ScriptedServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    zk = runtime.workspace("智库演示")
    added = zk.providers.add("ds", preset="deepseek", base_url=scripted.url, api_key=KEY)
    assert added.kind == "openai" and added.models[0] == "deepseek-chat"
    row = runtime.db.conn.execute("SELECT config, api_key_encrypted FROM providers").fetchone()
    assert KEY not in row["config"] and KEY.encode() not in bytes(row["api_key_encrypted"])
    shown = zk.providers.public(zk.providers.get("ds"))
    assert shown["has_key"] is True and shown["key_mask"] == "…CRET"
    assert KEY not in json.dumps(shown)
    result = zk.providers.test("ds")
    assert result["ok"] and result["latency_ms"] > 0 and result["reply"]
    assert scripted.headers[-1]["Authorization"] == f"Bearer {KEY}"  # the key reached the server
    assert KEY not in caplog.text


def test_failing_test_call_shows_the_exact_error_without_the_key(
    runtime: Runtime, scripted: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    zk = runtime.workspace("acme")
    zk.providers.add("bad", base_url=scripted.url, models=["m"], api_key=KEY, max_retries=0)
    body = json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}"}})
    scripted.push(Script(status=401, body=body))
    result = zk.providers.test("bad")
    assert result["ok"] is False and result["kind"] == "provider_auth"
    assert "Incorrect API key provided" in result["error"] and KEY not in result["error"]
    assert "401" in result["error"]
    assert KEY not in caplog.text


def test_embedding_and_rerank_providers_are_tested_with_their_own_call(
    runtime: Runtime, scripted: ScriptedServer
) -> None:
    zk = runtime.workspace("acme")
    zk.create_kb("hr")
    zk.providers.add("emb", preset="ollama-embedding", base_url=scripted.url)
    scripted.push(Script(body=json.dumps({"data": [{"index": 0, "embedding": [0.1, 0.2, 0.3]}]})))
    result = zk.providers.test("emb")
    assert result["ok"] and result["dim"] == 3 and result["provider_kind"] == "embedding"
    assert scripted.requests[-1] == {"model": "bge-m3", "input": ["dimension probe"]}
    zk.providers.add("rr", preset="vllm-rerank", base_url=scripted.url)
    scripted.push(Script(body=json.dumps({"results": [{"index": 0, "relevance_score": 0.2},
                                                      {"index": 1, "relevance_score": 0.9}]})))
    assert zk.providers.test("rr")["scores"] == [0.2, 0.9]
    # neither is a chat model
    with pytest.raises(InvalidInput, match="is an embedder, not a chat model"):
        zk.create_assistant("Bot", knowledge_bases=["hr"], model="emb/bge-m3")
    with pytest.raises(InvalidInput, match="not a chat model"):
        zk.providers.set_default("rr")


def test_update_keeps_the_key_unless_replaced_or_cleared(runtime: Runtime) -> None:
    zk = runtime.workspace("acme")
    zk.providers.add("p", base_url="http://127.0.0.1:9/v1", models=["a"], api_key=KEY)
    changed = zk.providers.update("p", models=["a", "b"], timeout=5.0)
    assert changed.models == ["a", "b"] and changed.timeout == 5.0 and changed.has_stored_key
    assert zk.llm.providers.api_key(changed) == KEY
    changed = zk.providers.update("p", api_key="sk-another-key-0000000000-NEW1")
    assert zk.providers.public(changed)["key_mask"] == "…NEW1"
    cleared = zk.providers.update("p", clear_key=True)
    assert not cleared.has_stored_key and zk.providers.public(cleared)["key_mask"] is None
    with pytest.raises(InvalidInput, match="cannot change name"):
        zk.providers.update("p", name="q")
    with pytest.raises(NotFound):
        zk.providers.update("nope", timeout=3.0)
    with pytest.raises(InvalidInput, match="context_window"):
        zk.providers.update("p", context_window=10)
    with pytest.raises(InvalidInput, match="invalid provider settings: kind"):
        zk.providers.add("q", base_url="http://127.0.0.1:9/v1", kind="nonsense")


def test_each_workspace_has_its_own_providers_and_default(runtime: Runtime,
                                                          scripted: ScriptedServer) -> None:
    a, b = runtime.workspace("a"), runtime.workspace("b")
    a.providers.add("llm", base_url=scripted.url, models=["m1", "m2"])
    b.create_kb("hr")
    assert b.providers.list() == [] and b.providers.default_model() is None
    with pytest.raises(NotFound):
        b.providers.get("llm")
    with pytest.raises(InvalidInput, match="does not exist"):
        b.create_assistant("Bot", knowledge_bases=["hr"], model="llm/m1")
    assert a.providers.set_default("llm/m2") == "llm/m2"
    assert a.providers.default_model() == "llm/m2" and b.providers.default_model() is None
    assert [c.id for c in a.providers.choices("chat")] == ["extractive", "llm/m1", "llm/m2"]
    assert [c.id for c in b.providers.choices()] == ["extractive"]


def test_new_assistants_take_the_default_model(runtime: Runtime,
                                               scripted: ScriptedServer) -> None:
    zk = runtime.workspace("智库演示")
    zk.create_kb("hr")
    zk.ingest_items("hr", [SourceItem("leave.md", data=LEAVE.encode())])
    before = zk.create_assistant("Before", knowledge_bases=["hr"])
    assert before.draft.model is None  # no default: extractive
    zk.providers.add("one", base_url=scripted.url, models=["m"])
    zk.providers.add("two", base_url=scripted.url, models=["x", "y"])
    zk.providers.set_default("one")
    assert zk.providers.default_model() == "one/m"
    zk.providers.set_default("two/y")  # one default per workspace
    assert zk.providers.default_model() == "two/y"
    assert zk.providers.get("one").default_model is None
    bot = zk.create_assistant("Bot", knowledge_bases=["hr"])
    assert bot.draft.model == "two/y"
    plain = zk.create_assistant("Plain", knowledge_bases=["hr"], model=None)
    assert plain.draft.model is None  # chosen: extractive
    chosen = zk.create_assistant("Chosen", knowledge_bases=["hr"], model="one/m")
    assert chosen.draft.model == "one/m"
    zk.chat("bot", "How many days of annual leave do employees get?")
    assert scripted.requests and scripted.requests[-1]["model"] == "y"
    # replacing the provider keeps the default while it lists the model; removing drops it
    zk.providers.add("two", base_url=scripted.url, models=["y"], replace=True)
    assert zk.providers.default_model() == "two/y"
    zk.providers.remove("two")
    assert zk.providers.default_model() is None
    zk.providers.set_default("one/m")
    zk.providers.set_default("extractive")
    assert zk.providers.default_model() is None


def test_presets_cover_the_usual_providers() -> None:
    from zhiku.chat.provider_admin import presets

    by_name = {p["name"]: p for p in presets()}
    for name in ("deepseek", "qwen", "doubao", "moonshot", "zhipu", "siliconflow", "openai",
                 "ollama", "vllm", "llamacpp"):
        assert by_name[name]["kind"] == "openai" and by_name[name]["models"], name
    assert by_name["siliconflow-embedding"]["kind"] == "embedding"
    assert by_name["jina-rerank"]["kind"] == "rerank"
    assert by_name["ollama"]["needs_key"] is False and by_name["deepseek"]["needs_key"]


def _embeddings(req: dict[str, Any]) -> Script:
    """Embeddings from the scripted server: one small vector per text, by its words."""
    words = ("leave", "expense", "laptop")
    data = [{"index": i, "embedding": [float(w in text.lower()) + 0.01 for w in words]}
            for i, text in enumerate(req["input"])]
    return Script(body=json.dumps({"data": data}))


def test_a_knowledge_base_embeds_with_the_workspaces_provider(
    runtime: Runtime, scripted: ScriptedServer
) -> None:
    scripted.default = lambda req: _embeddings(req) if "input" in req else Script()
    zk = runtime.workspace("acme")
    zk.providers.add("emb", preset="siliconflow-embedding", base_url=scripted.url, api_key=KEY)
    kb = zk.create_kb("hr", embedder="provider:emb/BAAI/bge-m3")
    assert kb.embedder == "provider:emb/BAAI/bge-m3"
    docs = {"leave.md": LEAVE, "laptops.md": "# Laptops\n\nEvery laptop is encrypted.\n"}
    report = zk.ingest_items("hr", [SourceItem(n, data=t.encode()) for n, t in docs.items()])
    assert not report.failed
    hits = zk.search("hr", "annual leave", mode="vector", top_k=1)
    assert hits[0].source == "leave.md"
    assert {r["model"] for r in scripted.requests} == {"BAAI/bge-m3"}
    assert scripted.headers[-1]["Authorization"] == f"Bearer {KEY}"
    # another workspace has no such provider
    with pytest.raises(NotFound, match="provider 'emb' does not exist"):
        runtime.workspace("other").create_kb("hr", embedder="provider:emb/BAAI/bge-m3")


def test_every_change_is_told_without_the_key(runtime: Runtime) -> None:
    """The hook an audit log hangs on: each change once, never the key."""
    from zhiku.chat.provider_admin import ModelProviders

    zk = runtime.workspace("acme")
    told: list[tuple[str, str, dict[str, Any]]] = []
    providers = ModelProviders(zk.llm.providers, zk.llm.calls,
                               on_change=lambda *change: told.append(change))
    providers.add("p", base_url="http://127.0.0.1:9/v1", models=["a"], api_key=KEY)
    providers.update("p", models=["a", "b"])
    providers.set_default("p/b")
    providers.add("p", base_url="http://127.0.0.1:9/v1", models=["b"], replace=True)
    providers.remove("p")
    assert [(action, name) for action, name, _ in told] == [
        ("provider.add", "p"), ("provider.update", "p"), ("provider.default", "p"),
        ("provider.update", "p"), ("provider.remove", "p")]
    assert told[0][2]["key_set"] is True and told[0][2]["models"] == ["a"]
    assert told[2][2] == {"default_model": "p/b"}
    assert KEY not in repr(told)
