"""Moderation through the chat path, over real SQLite/PostgreSQL, real retrieval and the
scripted OpenAI-compatible server (as the chat model and as the moderation endpoint)."""

from __future__ import annotations

from llm_scripted_server import Script, ScriptedServer

from zhiku.chat.engine import ChatTurn
from zhiku.moderation.policy import ModerationPolicy
from zhiku.service import Zhiku

REPLY = "抱歉，不能回答。"


def _policy(*words: tuple[str, str, str], **extra: object) -> ModerationPolicy:
    return ModerationPolicy.model_validate({
        "words": [{"word": w, "action": a, "scope": s} for w, a, s in words],
        "block_reply": REPLY, **extra})


def test_a_blocked_question_gets_the_reply_and_no_model_call(
        zk: Zhiku, app: str, scripted: ScriptedServer) -> None:
    zk.moderation.set_policy(_policy(("工资", "block", "input")))
    turn = zk.chat(app, "经理的工资是多少？")
    assert isinstance(turn, ChatTurn)
    assert turn.answer.answer == REPLY and turn.answer.refused and turn.answer.moderated
    assert scripted.chat_requests == []
    assert turn.conversation_id is not None
    stored = zk.conversation(turn.conversation_id)
    assert [m.content for m in stored] == ["经理的工资是多少？", REPLY]
    assert stored[-1].metadata["moderated"] is True
    [hit] = zk.moderation.hits()
    assert (hit["direction"], hit["action"], hit["source"], hit["words"], hit["app"]) == (
        "input", "block", "words", ["工资"], app)
    assert "工资" not in hit["excerpt"]


def test_masked_question_words_never_reach_the_model(
        zk: Zhiku, app: str, scripted: ScriptedServer) -> None:
    zk.moderation.set_policy(_policy(("Alice Chen", "mask", "input")))
    scripted.push(Script(text="New employees get 10 days [1]."))
    zk.chat(app, "How many days of leave does Alice Chen get as a new employee?")
    sent = scripted.chat_requests[-1]["messages"][-1]["content"]
    assert "Alice" not in sent and "***** ****" in sent


def test_a_blocked_word_in_a_streamed_answer_never_reaches_the_reader(
        zk: Zhiku, app: str, scripted: ScriptedServer) -> None:
    zk.moderation.set_policy(_policy(("confidential", "block", "output")))
    scripted.push(Script(text="New employees get 10 days [1]. This part is confiden"
                              "tial and goes on for a while longer [1]."))
    stream = zk.chat(app, "How many days of leave do new employees get?", stream=True)
    events = list(stream)
    streamed = "".join(e.text for e in events if e.kind == "token")
    assert "confiden" not in streamed
    final = events[-1].answer
    assert final is not None and final.answer == REPLY and final.moderated and final.refused
    assert stream.conversation_id is not None
    assert zk.conversation(stream.conversation_id)[-1].content == REPLY
    assert zk.moderation.hits()[0]["direction"] == "output"


def test_masked_answer_words_are_masked_in_tokens_answer_and_citations(
        zk: Zhiku, app: str, scripted: ScriptedServer) -> None:
    zk.moderation.set_policy(_policy(("annual leave", "mask", "output")))
    scripted.push(Script(text="New employees get 10 days of annual leave [1]."))
    events = list(zk.chat(app, "How many days of leave do new employees get?", stream=True))
    streamed = "".join(e.text for e in events if e.kind == "token")
    final = events[-1].answer
    assert final is not None and not final.refused
    assert "annual" not in streamed and "****** *****" in streamed
    assert final.answer == streamed.strip() or "annual" not in final.answer
    assert final.citations and all("annual leave" not in c.text for c in final.citations)
    [hit] = zk.moderation.hits()  # one entry for the answer, however it was split
    assert (hit["direction"], hit["action"], hit["words"]) == ("output", "mask",
                                                               ["annual leave"])


def test_extractive_answers_are_moderated_too(zk: Zhiku) -> None:
    zk.create_assistant("Plain", knowledge_bases=["hr"],
                        retrieval={"top_k": 5, "min_relevance": 0.1})
    zk.moderation.set_policy(_policy(("发票", "mask", "output")))
    answer = zk.chat("plain", "报销需要哪些材料？").answer
    assert not answer.refused and "发票" not in answer.answer and "**" in answer.answer
    assert all("发票" not in c.text for c in answer.citations)
    zk.moderation.set_policy(_policy(("发票", "block", "output")))
    assert zk.chat("plain", "报销需要哪些材料？").answer.answer == REPLY


def test_the_moderation_endpoint_checks_questions(
        zk: Zhiku, app: str, scripted: ScriptedServer) -> None:
    zk.moderation.set_policy(_policy(endpoint="scripted/omni-moderation"))
    flagged = '{"results": [{"flagged": true, "categories": {"violence": true, "hate": false}}]}'
    scripted.push(Script(body=flagged))
    assert zk.chat(app, "How do I hurt someone?").answer.answer == REPLY
    assert scripted.requests[-1] == {"model": "omni-moderation", "input": "How do I hurt someone?"}
    assert zk.moderation.hits()[0]["words"] == ["violence"]
    scripted.push(Script(status=500), Script(text="New employees get 10 days [1]."))
    answered = zk.chat(app, "How many days of leave do new employees get?").answer
    assert not answered.moderated and "10 days" in answered.answer
    assert zk.moderation.hits()[0]["action"] == "allow"  # unavailable, allowed, logged
    zk.moderation.set_policy(_policy(endpoint="scripted/omni-moderation",
                                     endpoint_failure="block"))
    scripted.push(Script(status=503))
    assert zk.chat(app, "How many days of leave do new employees get?").answer.moderated


def test_a_disabled_or_cleared_policy_moderates_nothing(
        zk: Zhiku, app: str, scripted: ScriptedServer) -> None:
    zk.moderation.set_policy(_policy(("leave", "block", "both"), enabled=False))
    scripted.push(Script(text="New employees get 10 days of leave [1]."))
    assert not zk.chat(app, "How much leave do new employees get?").answer.moderated
    zk.moderation.set_policy(_policy(("leave", "block", "both")))
    assert zk.chat(app, "How much leave do new employees get?").answer.moderated
    zk.moderation.clear()
    scripted.push(Script(text="New employees get 10 days of leave [1]."))
    assert not zk.chat(app, "How much leave do new employees get?").answer.moderated
    assert zk.moderation.policy() is None
    test = zk.moderation.test("leave it", _policy(("leave", "mask", "output")))
    assert test["input"] == {"blocked": False, "text": "leave it", "words": []}
    assert test["output"] == {"blocked": False, "text": "***** it", "words": ["leave"]}


def test_each_policy_change_is_audited_once(zk: Zhiku) -> None:
    """The audit hook is attached once: changes through the chat services' own moderation and
    through repeated ``zk.moderation`` reads each leave exactly one entry."""
    zk.llm.moderation.set_policy(_policy(("工资", "block", "input")))
    for _ in range(3):
        zk.moderation.policy()
    zk.moderation.set_policy(_policy(("奖金", "mask", "input")))
    zk.moderation.clear()
    actions = [e.action for e in zk.audit_entries().entries if e.target_kind == "moderation"]
    assert actions == ["moderation.clear", "moderation.set", "moderation.set"]
