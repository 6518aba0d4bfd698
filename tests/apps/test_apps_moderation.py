"""The workspace's moderation on workflow and agent runs: a blocked question gets the policy's
reply without a model call, listed words are masked in what the run gets, and the answer is
checked as it streams (a blocked word never leaves the run); every hit is logged."""

from __future__ import annotations

from typing import Any

from scripted_llm import Script
from zhiku.moderation.policy import ModerationPolicy, WordRule
from zhiku.service import Zhiku

REPLY = "Not here, sorry."


def _policy(zk: Zhiku) -> None:
    zk.moderation.set_policy(ModerationPolicy(block_reply=REPLY, words=[
        WordRule(word="salary", action="block", scope="input"),
        WordRule(word="payroll", action="mask", scope="input"),
        WordRule(word="secret", action="block", scope="output"),
        WordRule(word="fifteen", action="mask", scope="output"),
    ]))


def _hits(zk: Zhiku) -> list[tuple[str, str, str | None, list[str]]]:
    return [(h["direction"], h["action"], h["app"], h["words"])
            for h in zk.moderation.hits()]


def test_a_blocked_question_gets_the_reply_without_a_run(zk: Zhiku, scripted: Any) -> None:
    _policy(zk)
    for slug, inputs in (("chatflow", {"query": "what is the CEO's salary?"}),
                         ("helper", {"messages": [{"role": "user", "content": "salary?"}]})):
        run = zk.apps.stream(slug, inputs)
        events = list(run)
        assert [e.type for e in events] == ["started", "token", "done"]
        assert events[1].data["text"] == REPLY and events[0].data["moderated"] is True
        assert run.result is not None
        assert (run.result.output, run.result.refused, run.result.detail) == (
            REPLY, True, {"moderated": True})
    assert scripted.requests == []  # no model was called
    assert _hits(zk) == [("input", "block", "helper", ["salary"]),
                         ("input", "block", "chatflow", ["salary"])]


def test_masked_words_do_not_reach_the_model(zk: Zhiku, scripted: Any) -> None:
    _policy(zk)
    scripted.push(Script(text="ok"), Script(text="ok"))
    assert zk.apps.run("chatflow", {"query": "open the payroll"}).output == "ok"
    assert zk.apps.run("helper", {"query": "open the payroll"}).output == "ok"
    sent = [str(r["messages"]) for r in scripted.requests]
    assert all("payroll" not in s and "*******" in s for s in sent)
    assert [h[:3] for h in _hits(zk)] == [("input", "mask", "helper"),
                                          ("input", "mask", "chatflow")]


def test_a_blocked_word_in_a_streamed_answer_never_leaves_the_run(
        zk: Zhiku, scripted: Any) -> None:
    _policy(zk)
    for slug in ("chatflow", "helper"):
        scripted.push(Script(text="The code is se" + "cret: 42, as everyone knows by now."))
        run = zk.apps.stream(slug, {"query": "tell me"})
        events = list(run)
        text = "".join(e.data["text"] for e in events if e.type in ("token", "node_token"))
        raw = str([e.to_dict() for e in events])
        assert "secret" not in raw and text.endswith(REPLY)
        assert run.result is not None and run.result.output == REPLY
        assert run.result.refused and run.result.detail == {"moderated": True}
    assert [h[:3] for h in _hits(zk)] == [("output", "block", "helper"),
                                          ("output", "block", "chatflow")]


def test_masked_words_in_an_answer_are_masked_everywhere(zk: Zhiku, scripted: Any) -> None:
    _policy(zk)
    for slug in ("chatflow", "helper"):
        scripted.push(Script(text="New employees get fifteen days."))
        run = zk.apps.stream(slug, {"query": "leave?"})
        events = list(run)
        assert "fifteen" not in str([e.to_dict() for e in events])
        assert run.result is not None
        assert run.result.output == "New employees get ******* days."
        assert not run.result.refused
    assert [h[:3] for h in _hits(zk)] == [("output", "mask", "helper"),
                                          ("output", "mask", "chatflow")]


def test_without_a_policy_runs_are_untouched(zk: Zhiku, scripted: Any) -> None:
    scripted.push(Script(text="the secret is fifteen"))
    assert zk.apps.run("chatflow", {"query": "salary"}).output == "the secret is fifteen"
    assert zk.moderation.hits() == []
