"""An assistant without a model answers extractively through the same chat path: stored,
streamed, cited and accounted like an LLM answer (Python API and CLI)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zhiku.answer.types import Citation
from zhiku.chat.engine import ChatStream, ChatTurn
from zhiku.cli.main import create_app
from zhiku.core.errors import InvalidInput
from zhiku.models.llm.errors import Cancelled
from zhiku.models.llm.types import CancelToken
from zhiku.service import Zhiku

QUESTION = "How many days of paid annual leave do new employees get?"
LEAVE = "# Leave policy\n\nNew employees get 10 days of paid annual leave in their first year.\n"


@pytest.fixture
def plain(zk: Zhiku) -> str:
    zk.create_assistant("Plain", knowledge_bases=["hr"], refusal_message="Ask HR.",
                        retrieval={"top_k": 5, "min_relevance": 0.3})
    return "plain"


def test_no_model_means_extractive() -> None:
    from zhiku.apps.types import AssistantConfig

    assert AssistantConfig(knowledge_bases=["hr"]).model is None
    assert AssistantConfig(knowledge_bases=["hr"], model="extractive").extractive
    with pytest.raises(ValueError, match="fallback_models need a model"):
        AssistantConfig(knowledge_bases=["hr"], fallback_models=["a/b"])


def test_extractive_turn_streams_cites_and_is_stored(zk: Zhiku, plain: str) -> None:
    stream = zk.chat(plain, QUESTION, stream=True)
    assert isinstance(stream, ChatStream) and stream.conversation_id
    events = list(stream)
    tokens = [e.text for e in events if e.kind == "token"]
    assert 1 <= len(tokens) <= 3 and events[-1].kind == "answer"
    answer = events[-1].answer
    assert answer is not None and not answer.refused and not answer.flagged
    assert "".join(tokens) == answer.answer
    assert "10 days" in answer.answer and "[1]" in answer.answer
    assert answer.citations[0].source == "leave.md" and answer.citations[0].quote
    assert answer.model == "extractive" and answer.usage.estimated
    stored = zk.conversation(stream.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].id == stream.message_id and stored[1].content == answer.answer
    assert stored[1].citations == [asdict(c) for c in answer.citations]  # the LLM path's shape
    assert set(stored[1].citations[0]) == {f.name for f in fields(Citation)}
    assert stored[1].metadata["model"] == "extractive" and stored[1].metadata["refused"] is False
    calls = zk.model_calls(stream.conversation_id)
    assert len(calls) == 1 and calls[0]["purpose"] == "answer" and calls[0]["ok"] == 1
    assert (calls[0]["provider"], calls[0]["model"], calls[0]["tokens_estimated"]) == (
        "zhiku", "extractive", 1)
    assert calls[0]["assistant_id"] == zk.get_assistant(plain).id and calls[0]["cost"] == 0
    assert calls[0]["output_tokens"] > 0 and calls[0]["input_tokens"] > calls[0]["output_tokens"]

    follow = zk.chat(plain, "报销需要提供发票原件吗？", stream.conversation_id)
    assert isinstance(follow, ChatTurn) and follow.conversation_id == stream.conversation_id
    assert follow.answer.citations[0].source == "expenses.md" and "发票" in follow.answer.answer
    assert len(zk.conversation(stream.conversation_id)) == 4


def test_extractive_refusal_and_one_shot(zk: Zhiku, plain: str) -> None:
    turn = zk.chat(plain, "What is the capital of Mongolia's space programme budget?")
    assert isinstance(turn, ChatTurn) and turn.answer.refused
    assert turn.answer.answer == "Ask HR." and turn.answer.citations == []
    assert zk.model_calls() == []  # a refusal costs no call, as with an LLM
    one = zk.ask_app(plain, QUESTION)
    assert not one.refused and one.citations and len(zk.list_conversations()) == 1
    zk.update_assistant(plain, citation_style="hidden")
    hidden = zk.ask_app(plain, QUESTION)
    assert "[1]" not in hidden.answer and hidden.citations


def test_cancelled_extractive_turn_stores_nothing(zk: Zhiku, plain: str) -> None:
    cancel = CancelToken()
    stream = zk.chat(plain, QUESTION, stream=True, cancel=cancel)
    assert isinstance(stream, ChatStream)
    cancel.cancel()
    with pytest.raises(Cancelled):
        list(stream)
    assert zk.list_conversations() == []


def test_history_and_conversation_do_not_mix(zk: Zhiku, plain: str) -> None:
    with pytest.raises(InvalidInput):
        zk.llm.engine.stream(plain, "hi", 1, history=[{"role": "user", "content": "x"}])
    other = zk.create_assistant("Other", knowledge_bases=["hr"])
    turn = zk.chat(plain, QUESTION)
    assert isinstance(turn, ChatTurn) and turn.conversation_id
    with pytest.raises(InvalidInput, match="another assistant"):
        zk.chat(other.slug, QUESTION, turn.conversation_id)


def test_cli_ask_and_chat_without_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZHIKU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZHIKU_EMBEDDER", "hashing")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "leave.md").write_text(LEAVE, encoding="utf-8")
    runner = CliRunner()
    for args in (["kb", "create", "hr"], ["ingest", "--kb", "hr", str(docs)],
                 ["apps", "create", "Plain", "--kb", "hr", "--publish"]):
        result = runner.invoke(create_app(), args)
        assert result.exit_code == 0, result.output
    out = runner.invoke(create_app(), ["ask", "--app", "plain", "--json", QUESTION])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["model"] == "extractive" and data["citations"][0]["source"].endswith("leave.md")
    out = runner.invoke(create_app(), ["chat", "--app", "plain"], input=f"{QUESTION}\n\n")
    assert out.exit_code == 0, out.output
    assert "10 days" in out.stdout and "leave.md" in out.stdout
    assert "conversation 1" in out.stdout
