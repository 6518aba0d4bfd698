"""Conversations, follow-up rewriting, accounting, fallbacks and failed turns, end to end over
real SQLite, real retrieval and the scripted server."""

from __future__ import annotations

import pytest
from llm_scripted_server import Script, ScriptedServer

from zhiku.chat.engine import ChatStream, ChatTurn
from zhiku.models.llm.errors import BrokenStream, ProviderUnavailable
from zhiku.service import Zhiku


def turn(zk: Zhiku, app: str, msg: str, cid: int | None = None) -> ChatTurn:
    out = zk.chat(app, msg, cid)
    assert isinstance(out, ChatTurn)
    return out


def test_follow_up_is_rewritten_before_retrieval(
    zk: Zhiku, app: str, scripted: ScriptedServer
) -> None:
    scripted.push(Script(text="New employees get 10 days [1]."))
    first = turn(zk, app, "How many days of leave do new employees get?")
    assert first.conversation_id and first.answer.citations
    assert len(scripted.chat_requests) == 1  # no history: no rewrite call
    scripted.push(Script(text="How many days of paid leave do managers get?"),
                  Script(text="Managers get 15 days [1]."))
    second = turn(zk, app, "And for managers?", first.conversation_id)
    rewrite_req, answer_req = scripted.chat_requests[1:]
    convo = rewrite_req["messages"][-1]["content"]
    assert "new employees" in convo and convo.rstrip().endswith("user: And for managers?\n\n→")
    assert second.answer.query == "How many days of paid leave do managers get?"
    assert any("Managers get 15 days" in c.text for c in second.answer.citations)
    # the answer call carries the earlier turn as history, and the original question
    roles = [m["role"] for m in answer_req["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert answer_req["messages"][2]["content"] == "New employees get 10 days."  # no old [1]
    assert answer_req["messages"][-1]["content"].endswith("Question: And for managers?")
    stored = zk.conversation(first.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant", "user", "assistant"]
    assert stored[3].metadata["query"] == second.answer.query
    assert stored[3].citations[0]["source"] == "leave.md"


def test_every_call_is_accounted(zk: Zhiku, app: str, scripted: ScriptedServer) -> None:
    scripted.push(Script(text="Ten days [1].", usage=(1200, 30)))
    first = turn(zk, app, "How many days of leave do new employees get?")
    scripted.push(Script(text="How many leave days do managers get?", usage=(300, 9)))
    stream = zk.chat(app, "And managers?", first.conversation_id, stream=True)
    assert isinstance(stream, ChatStream)
    scripted.push(Script(text="Fifteen days [1].", usage=(1500, 40), chunk_delay=0.01))
    list(stream)
    calls = zk.model_calls(first.conversation_id)
    assert [c["purpose"] for c in calls] == ["answer", "rewrite", "answer"]
    assert all(c["ok"] == 1 and c["latency_ms"] > 0 for c in calls)
    assert [(c["input_tokens"], c["output_tokens"]) for c in calls] == [
        (1200, 30), (300, 9), (1500, 40)]
    assert calls[0]["cost"] == pytest.approx((1200 * 2.0 + 30 * 8.0) / 1e6)
    assert calls[2]["stream"] == 1 and calls[2]["ttft_ms"] is not None
    assert 0 < calls[2]["ttft_ms"] <= calls[2]["latency_ms"]
    app_id = zk.get_assistant(app).id
    assert {c["assistant_id"] for c in calls} == {app_id}
    assert {c["workspace_id"] for c in calls} == {zk.workspace_id}
    totals = zk.llm.calls.totals(app_id)
    assert totals["calls"] == 3 and totals["input_tokens"] == 3000


def test_streamed_chat_gives_tokens_then_the_stored_answer(
    zk: Zhiku, app: str, scripted: ScriptedServer
) -> None:
    scripted.push(Script(text="New employees get 10 days of leave [1]. Bogus [8].",
                         reasoning="thinking..."))
    stream = zk.chat(app, "How many days of leave do new employees get?", stream=True)
    assert isinstance(stream, ChatStream) and stream.conversation_id
    events = list(stream)
    tokens = "".join(e.text for e in events if e.kind == "token")
    assert len([e for e in events if e.kind == "token"]) > 3
    assert "[8]" not in tokens and "[1]" in tokens
    assert "".join(e.text for e in events if e.kind == "reasoning") == "thinking..."
    final = events[-1].answer
    assert final is not None and final.removed_citations == [8]
    stored = zk.conversation(stream.conversation_id)
    assert stored[-1].content == final.answer and stored[-1].reasoning == "thinking..."


def test_a_failed_call_leaves_no_half_written_message(
    zk: Zhiku, app: str, scripted: ScriptedServer
) -> None:
    scripted.push(Script(text="Ten days [1]."))
    first = turn(zk, app, "How many days of leave do new employees get?")
    cid = first.conversation_id
    assert cid is not None
    # the answer stream breaks half way through, after tokens were shown
    scripted.push(Script(text="Managers?"),
                  Script(text="Managers get fifteen days of leave [1].", truncate_after=3))
    stream = zk.chat(app, "And for managers?", cid, stream=True)
    shown: list[str] = []
    with pytest.raises(BrokenStream):
        for event in stream:  # type: ignore[union-attr]
            shown.append(event.text)
    assert shown  # the reader saw part of it...
    assert len(zk.conversation(cid)) == 2  # ...but nothing of it was stored
    # a new conversation whose first call fails is not left behind
    before = len(zk.llm.conversations.list())
    scripted.push(Script(status=500), Script(status=500))
    with pytest.raises(ProviderUnavailable):
        turn(zk, app, "How many days of leave do new employees get?")
    assert len(zk.llm.conversations.list()) == before
    failed = [c for c in zk.model_calls() if not c["ok"]]
    assert len(failed) == 2 and "provider_unavailable" in failed[-1]["error"]


def test_fallback_model_answers_and_both_calls_are_recorded(
    zk: Zhiku, app: str, scripted: ScriptedServer
) -> None:
    zk.update_assistant(app, fallback_models=["backup/backup-model"])
    scripted.push(Script(status=503), Script(status=503), Script(text="From backup [1]."))
    out = turn(zk, app, "How many days of leave do new employees get?")
    assert out.answer.answer == "From backup [1]." and out.answer.citations
    assert [r["model"] for r in scripted.chat_requests] == [
        "scripted-model", "scripted-model", "backup-model"]
    calls = zk.model_calls(out.conversation_id)
    assert [(c["model"], c["ok"]) for c in calls] == [
        ("scripted/scripted-model", 0), ("backup/backup-model", 1)]


def test_unknown_conversation_is_not_found(zk: Zhiku, app: str) -> None:
    from zhiku.core.errors import NotFound

    with pytest.raises(NotFound):
        zk.chat(app, "hello", 999)


def test_cancelling_a_streamed_turn_stores_nothing(
    zk: Zhiku, app: str, scripted: ScriptedServer
) -> None:
    from zhiku.models.llm.errors import Cancelled

    before = len(zk.llm.conversations.list())
    scripted.push(Script(text="New employees get ten days of leave [1]. " * 5, chunk_delay=0.02))
    stream = zk.chat(app, "How many days of leave do new employees get?", stream=True)
    assert isinstance(stream, ChatStream)
    with pytest.raises(Cancelled):
        for n, _event in enumerate(stream):
            if n == 2:
                stream.cancel.cancel()
    assert len(zk.llm.conversations.list()) == before
    assert zk.model_calls()[-1]["error"].startswith("cancelled")


def test_a_conversation_continues_only_with_its_own_live_assistant(zk: Zhiku) -> None:
    from zhiku.core.errors import InvalidInput

    zk.create_assistant("Bot A", knowledge_bases=["hr"])
    zk.create_assistant("Bot B", knowledge_bases=["hr"])
    first = turn(zk, "bot-a", "How many days of leave do new employees get?")
    cid = first.conversation_id
    assert cid is not None
    row = zk.llm.conversations.get(cid)  # started locally: no owner
    assert (row["user_id"], row["key_id"]) == (None, None)
    with pytest.raises(InvalidInput, match="another assistant"):
        zk.chat("bot-b", "And for managers?", cid)
    zk.delete_assistant("bot-a")
    with pytest.raises(InvalidInput, match="was deleted"):
        zk.chat("bot-b", "And for managers?", cid)
    assert len(zk.conversation(cid)) == 2  # nothing was appended
