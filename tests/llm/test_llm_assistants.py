"""Assistants as stored, versioned configurations; providers with keys kept secret."""

from __future__ import annotations

import logging
import stat

import pytest
from llm_scripted_server import Script, ScriptedServer

from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.models.llm.presets import PRESETS
from zhiku.service import Zhiku
from zhiku.store.db import open_database


def test_publish_freezes_a_version_and_drafts_do_not_leak(
    zk: Zhiku, app: str, scripted: ScriptedServer
) -> None:
    assert zk.get_assistant(app).published_version is None
    assert zk.publish_assistant(app, note="first") == 1
    zk.update_assistant(app, temperature=0.9, retrieval={"top_k": 2})
    a = zk.get_assistant(app)
    assert a.published is not None and a.published.temperature == 0.2
    assert a.draft.temperature == 0.9 and a.draft.retrieval.top_k == 2
    assert a.draft.retrieval.min_relevance == 0.3  # partial retrieval update merges
    scripted.push(Script(text="Ten days [1]."))
    zk.ask_app(app, "How many days of leave do new employees get?")
    assert scripted.chat_requests[-1]["temperature"] == 0.2  # the live version answers
    assert zk.publish_assistant(app) == 2
    scripted.push(Script(text="Ten days [1]."))
    zk.ask_app(app, "How many days of leave do new employees get?")
    assert scripted.chat_requests[-1]["temperature"] == 0.9
    assert zk.llm.assistants.version(app, 1).temperature == 0.2
    assert [x.slug for x in zk.list_assistants()] == [app]


def test_assistant_validation(zk: Zhiku, app: str) -> None:
    with pytest.raises(Conflict):
        zk.create_assistant("HR Bot", knowledge_bases=["hr"], model="scripted/x")
    with pytest.raises(ValueError):
        zk.create_assistant("Bad", knowledge_bases=["hr"], model="s/x", colour="red")
    with pytest.raises(NotFound):
        zk.get_assistant("nope")
    with pytest.raises(InvalidInput):
        zk.create_assistant("  ", knowledge_bases=["hr"], model="s/x")
    with pytest.raises(NotFound):
        zk.create_assistant("Ghost", knowledge_bases=["no-such-kb"], model="s/x")


def test_presets_cover_the_providers() -> None:
    assert set(PRESETS) >= {"deepseek", "qwen", "doubao", "moonshot", "zhipu", "siliconflow",
                            "openai", "ollama", "vllm", "llamacpp"}
    assert PRESETS["qwen"].base_url.endswith("/compatible-mode/v1")


def test_stored_key_is_encrypted_and_never_shown(
    zk: Zhiku, scripted: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("cryptography")
    caplog.set_level(logging.DEBUG)
    secret = "sk-very-secret-key-0042"
    cfg = zk.add_provider("vault", preset="deepseek", base_url=scripted.url, api_key=secret,
                          api_key_env=None, models=["m"])
    assert cfg.has_stored_key and secret not in cfg.model_dump_json()
    key_file = zk.settings.home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    db = open_database(zk.settings, migrate=False)
    try:
        raw = db.conn.execute(
            "SELECT config, api_key_encrypted FROM providers WHERE name = 'vault'").fetchone()
    finally:
        db.close()
    assert secret not in raw[0] and secret.encode() not in bytes(raw[1])
    scripted.push(Script(text="pong"))
    result = zk.test_provider("vault")
    assert result["ok"] and scripted.headers[-1]["Authorization"] == f"Bearer {secret}"
    assert secret not in str(result) and secret not in caplog.text


def test_key_from_a_named_environment_variable(
    zk: Zhiku, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    zk.add_provider("envp", base_url=scripted.url, models=["m"], api_key_env="ZK_TEST_KEY")
    result = zk.test_provider("envp")
    assert not result["ok"] and "ZK_TEST_KEY is not set" in str(result["error"])
    monkeypatch.setenv("ZK_TEST_KEY", "sk-from-env")
    scripted.push(Script(text="pong"))
    assert zk.test_provider("envp")["ok"]
    assert scripted.headers[-1]["Authorization"] == "Bearer sk-from-env"


def test_provider_test_reports_the_exact_failure(zk: Zhiku, scripted: ScriptedServer) -> None:
    zk.add_provider("bad", base_url=scripted.url, models=["ghost"], max_retries=0)
    scripted.push(Script(status=404, body='{"error": {"code": "model_not_found"}}'))
    result = zk.test_provider("bad")
    assert result["ok"] is False and result["kind"] == "unknown_model"
    assert "ghost" in str(result["error"]) and result["latency_ms"] >= 0
    assert zk.model_calls()[-1]["purpose"] == "test"
