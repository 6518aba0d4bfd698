"""Ungrounded model answers: every answer says whether it is grounded, and the assistant's
``on_ungrounded`` policy (warn, extractive, refuse) decides what one becomes, streamed or not,
through Python and the CLI (the HTTP faces: tests/api/test_api_grounding.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llm_scripted_server import Script, ScriptedServer
from llm_support import DOCS
from typer.testing import CliRunner

from zhiku.answer.llm import LLMAnswerer, LLMAnswerOptions
from zhiku.apps.types import AssistantConfig
from zhiku.chat.engine import ChatStream
from zhiku.cli.main import create_app
from zhiku.models.llm.openai_compat import OpenAIChatModel
from zhiku.retrieval.types import Hit
from zhiku.service import Zhiku

QUESTION = "How many days of paid annual leave do new employees get?"
UNCITED = "New employees get ten days of leave, I believe."
LEAVE = "New employees get 10 days of paid annual leave in their first year."


def hit(i: int, text: str) -> Hit:
    return Hit(chunk_id=100 + i, document_id=i, kb_id=1, source=f"doc{i}.md", title=None,
               text=text, matched_text=text, heading_path=[], page=None, score=1.0,
               relevance=0.9)


HITS = [hit(1, LEAVE + " Leave requests go to the direct manager."),
        hit(2, "Managers get 15 days of paid annual leave.")]


def answerer(server: ScriptedServer, policy: str) -> LLMAnswerer:
    model = OpenAIChatModel(server.url, "scripted-model", provider="s", context_window=4096)
    return LLMAnswerer(model, LLMAnswerOptions(on_ungrounded=policy))  # type: ignore[arg-type]


# -- the answerer -------------------------------------------------------------------------
def test_a_cited_answer_is_grounded_under_every_policy(scripted: ScriptedServer) -> None:
    for policy in ("warn", "extractive", "refuse"):
        scripted.push(Script(text="Ten days [1]."))
        a = answerer(scripted, policy).answer(QUESTION, HITS)
        assert a.answer == "Ten days [1]." and a.grounded and a.ungrounded_reason is None
        assert a.ungrounded_action is None and not a.flagged
        assert a.to_dict()["grounded"] is True


def test_warn_keeps_the_answer_and_says_why_it_is_not_grounded(scripted: ScriptedServer) -> None:
    scripted.push(Script(text=UNCITED), Script(text="Ten days [7]."))
    a = answerer(scripted, "warn").answer(QUESTION, HITS)
    assert a.answer == UNCITED and not a.grounded and a.flagged and not a.refused
    assert (a.ungrounded_reason, a.ungrounded_action) == ("no_citation", "warn")
    b = answerer(scripted, "warn").answer(QUESTION, HITS)
    assert b.answer == "Ten days." and not b.grounded
    assert b.ungrounded_reason == "invalid_citations" and b.removed_citations == [7]
    assert {k: b.to_dict()[k] for k in ("grounded", "ungrounded_reason", "ungrounded_action")} \
        == {"grounded": False, "ungrounded_reason": "invalid_citations",
            "ungrounded_action": "warn"}


def test_extractive_replaces_it_by_cited_sentences_of_the_same_passages(
    scripted: ScriptedServer,
) -> None:
    scripted.push(Script(text=UNCITED))
    a = answerer(scripted, "extractive").answer(QUESTION, HITS)
    assert UNCITED not in a.answer and "10 days" in a.answer and "[1]" in a.answer
    assert a.grounded and not a.refused and a.flagged
    assert a.citations and {c.chunk_id for c in a.citations} <= {101, 102}
    assert (a.ungrounded_reason, a.ungrounded_action) == ("no_citation", "extractive")
    assert a.model == "scripted-model"  # the model was called; its answer was replaced


def test_refuse_replaces_it_by_the_refusal(scripted: ScriptedServer) -> None:
    scripted.push(Script(text=UNCITED))
    a = answerer(scripted, "refuse").answer(QUESTION, HITS)
    assert a.answer == "The knowledge base does not say." and a.refused and a.grounded
    assert a.citations == [] and a.ungrounded_action == "refuse"


@pytest.mark.parametrize("policy", ["extractive", "refuse"])
def test_streaming_never_shows_an_uncited_answer(scripted: ScriptedServer, policy: str) -> None:
    scripted.push(Script(text=UNCITED))
    events = list(answerer(scripted, policy).stream(QUESTION, HITS))
    tokens = "".join(e.text for e in events if e.kind == "token")
    final = events[-1].answer
    assert final is not None and final.ungrounded_action == policy
    assert "believe" not in tokens and tokens == final.answer


def test_streaming_a_cited_answer_holds_tokens_only_until_the_first_citation(
    scripted: ScriptedServer,
) -> None:
    text = "New employees get ten days [1]. Managers get fifteen [2]. Ask HR."
    scripted.push(Script(text=text))
    events = list(answerer(scripted, "refuse").stream(QUESTION, HITS))
    tokens = [e.text for e in events if e.kind == "token"]
    assert "".join(tokens) == text == events[-1].answer.answer  # type: ignore[union-attr]
    # the pieces before [1] came as one token when [1] arrived; the rest as it came
    assert tokens[0] == "New employees get ten days " and tokens[1].startswith("[1]")
    assert len(tokens) > 5


def test_warn_streams_as_it_comes(scripted: ScriptedServer) -> None:
    scripted.push(Script(text=UNCITED))
    events = list(answerer(scripted, "warn").stream(QUESTION, HITS))
    assert len([e for e in events if e.kind == "token"]) > 3
    final = events[-1].answer
    assert final is not None and final.answer == UNCITED and not final.grounded


# -- assistants: the setting, Python and the stored turn ----------------------------------
def test_the_policy_is_a_validated_assistant_setting(zk: Zhiku, app: str) -> None:
    assert AssistantConfig(knowledge_bases=["hr"]).on_ungrounded == "warn"
    with pytest.raises(ValueError):
        AssistantConfig(knowledge_bases=["hr"], on_ungrounded="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        zk.update_assistant(app, on_ungrounded="maybe")
    zk.update_assistant(app, on_ungrounded="refuse")
    zk.publish_assistant(app)
    assert zk.llm.assistants.version(app, 1).on_ungrounded == "refuse"


def test_an_app_applies_its_policy_in_python_and_stores_what_it_made(
    zk: Zhiku, app: str, scripted: ScriptedServer
) -> None:
    scripted.push(Script(text=UNCITED))
    warned = zk.ask_app(app, QUESTION)
    assert warned.answer == UNCITED and not warned.grounded

    zk.update_assistant(app, on_ungrounded="extractive")
    scripted.push(Script(text=UNCITED))
    stream = zk.chat(app, QUESTION, stream=True)
    assert isinstance(stream, ChatStream)
    events = list(stream)
    final = events[-1].answer
    assert final is not None and final.ungrounded_action == "extractive" and final.grounded
    assert "10 days" in final.answer and "believe" not in final.answer
    assert "".join(e.text for e in events if e.kind == "token") == final.answer
    assert stream.conversation_id is not None
    stored = zk.conversation(stream.conversation_id)[-1]
    assert stored.content == final.answer and stored.citations
    assert stored.metadata["grounded"] is True
    assert stored.metadata["ungrounded_reason"] == "no_citation"
    assert stored.metadata["ungrounded_action"] == "extractive"


def test_an_extractive_assistant_is_always_grounded(zk: Zhiku) -> None:
    zk.create_assistant("No LLM", knowledge_bases=["hr"])
    answer = zk.ask_app("no-llm", QUESTION)
    assert answer.grounded and answer.citations and answer.ungrounded_reason is None


# -- CLI ----------------------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer) -> CliRunner:
    monkeypatch.setenv("ZHIKU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZHIKU_EMBEDDER", "hashing")
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    runner = CliRunner()
    for args in (["kb", "create", "hr"], ["ingest", "--kb", "hr", str(docs)],
                 ["models", "add", "scripted", "--base-url", scripted.url, "-m", "scripted-model"],
                 ["apps", "create", "HR Bot", "--kb", "hr", "-m", "scripted/scripted-model",
                  "--on-ungrounded", "extractive", "--publish"]):
        result = runner.invoke(create_app(), args)
        assert result.exit_code == 0, result.output
    return runner


def test_cli_ask_and_chat_show_grounding(cli: CliRunner, scripted: ScriptedServer) -> None:
    shown = json.loads(cli.invoke(create_app(), ["apps", "show", "hr-bot"]).stdout)
    assert shown["published"]["on_ungrounded"] == "extractive"
    scripted.push(Script(text=UNCITED))
    out = cli.invoke(create_app(), ["ask", "--app", "hr-bot", "--json", QUESTION])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["grounded"] is True and data["ungrounded_action"] == "extractive"
    assert data["ungrounded_reason"] == "no_citation" and "10 days" in data["answer"]

    bad = cli.invoke(create_app(), ["apps", "update", "hr-bot", "--on-ungrounded", "nope"])
    assert bad.exit_code != 0
    ok = cli.invoke(create_app(), ["apps", "update", "hr-bot", "--on-ungrounded", "warn"])
    assert ok.exit_code == 0, ok.output
    assert cli.invoke(create_app(), ["apps", "publish", "hr-bot"]).exit_code == 0
    scripted.push(Script(text=UNCITED))
    plain = cli.invoke(create_app(), ["ask", "--app", "hr-bot", QUESTION])
    assert UNCITED in plain.stdout and "may not be grounded: it cites nothing" in plain.stderr
    scripted.push(Script(text=UNCITED))
    chat = cli.invoke(create_app(), ["chat", "--app", "hr-bot"], input=QUESTION + "\n\n")
    assert chat.exit_code == 0, chat.output
    assert UNCITED in chat.stdout and "may not be grounded" in chat.stderr


def test_after_an_overflow_retry_streamed_markers_count_the_smaller_context(
    scripted: ScriptedServer,
) -> None:
    hits = [hit(i, "Leave accrues monthly. " * 30) for i in range(1, 51)]
    overflow = Script(status=400, body='{"error": {"message": "exceeds the context window"}}')
    scripted.push(overflow, Script(text="Monthly [1]."))
    model = OpenAIChatModel(scripted.url, "scripted-model", provider="s", context_window=4096)
    answerer = LLMAnswerer(model, LLMAnswerOptions(on_ungrounded="refuse"))
    answerer.answer("How does leave accrue?", hits)
    big, small = (r["messages"][-1]["content"].count("<document ")
                  for r in scripted.chat_requests)
    assert big > small >= 1
    scripted.push(overflow, Script(text=f"Monthly [1]. Gone [{big}]."))
    events = list(answerer.stream("How does leave accrue?", hits))
    tokens = "".join(e.text for e in events if e.kind == "token")
    final = events[-1].answer
    assert final is not None and final.removed_citations == [big]
    assert final.answer == "Monthly [1]. Gone." and f"[{big}]" not in tokens  # not given
