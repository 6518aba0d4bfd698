"""Provable releases through the Python API: a bound assistant's drafts are scored beside live on
its eval set, publishing refuses a worse draft naming the metric, its values and the interval,
``force`` records who and why, the gate catches a knowledge base change, rollback is one call."""

from __future__ import annotations

import pytest

from releasedata import break_kb, seed
from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.evals import runs
from zhiku.service import Zhiku


def run_count(zk: Zhiku) -> int:
    return len(runs.list_runs(zk.evals))


def test_an_unbound_assistant_publishes_as_before(zk: Zhiku) -> None:
    seed(zk)
    zk.update_assistant("hr-bot", retrieval={"min_relevance": 0.99})
    assert zk.publish_assistant("hr-bot") == 2
    assert run_count(zk) == 0
    v2, v1 = zk.assistant_versions("hr-bot")
    assert (v2["version"], v2["live"], v2["release"]) == (2, True, None)
    assert v1["live"] is False
    with pytest.raises(InvalidInput, match="not bound"):
        zk.releases.scorecard("hr-bot")


def test_a_worse_draft_is_refused_with_the_metric_its_values_and_the_interval(zk: Zhiku) -> None:
    seed(zk)
    binding = zk.releases.bind("hr-bot", "hr")
    assert (binding.set_name, binding.top_k, binding.metrics) == ("hr", 10, [])
    zk.update_assistant("hr-bot", retrieval={"min_relevance": 0.99})
    with pytest.raises(Conflict) as caught:
        zk.publish_assistant("hr-bot")
    message = caught.value.message
    assert "draft is worse than v1 on 'hr'" in message
    assert ("refusal: 1.0000 → 0.0000 (Δ -1.0000, 95% paired-bootstrap interval "
            "[-1.0000, -1.0000], n=8)") in message
    regressed = {d["metric"]: d for d in caught.value.details["regressions"]}
    assert set(regressed) >= {"refusal", "f1"} and "ndcg@10" not in regressed
    assert regressed["refusal"]["a"] == 1.0 and regressed["refusal"]["b"] == 0.0
    live = zk.get_assistant("hr-bot")
    assert live.published_version == 1 and live.published is not None
    assert live.published.retrieval.min_relevance == 0.3
    assert [v["version"] for v in zk.assistant_versions("hr-bot")] == [1]


def test_the_same_configuration_publishes_and_stored_runs_are_reused(zk: Zhiku) -> None:
    seed(zk)
    zk.releases.bind("hr-bot", "hr")
    card = zk.releases.scorecard("hr-bot")
    assert card.passed and card.baseline is not None
    assert card.baseline.run.id == card.candidate.run.id  # one configuration: one run
    assert (card.candidate.reused, card.baseline.reused) == (False, True)
    assert card.primary == ["ndcg@10", "refusal", "f1", "citation_recall"]
    assert run_count(zk) == 1
    again = zk.releases.scorecard("hr-bot")
    assert again.candidate.reused and again.candidate.run.id == card.candidate.run.id
    summary = again.candidate.run.summary
    assert summary["metrics"]["refusal"] == 1.0 and summary["latency_ms"]["p50"] is not None
    assert zk.publish_assistant("hr-bot", note="same") == 2
    assert run_count(zk) == 1
    release = zk.assistant_versions("hr-bot")[0]["release"]
    assert release["scorecard_run"] == card.candidate.run.id
    assert release["compared_run"] == card.candidate.run.id
    assert (release["forced_by"], release["regressions"]) == (None, [])


def test_a_changed_knowledge_base_is_measured_again(zk: Zhiku) -> None:
    seed(zk)
    zk.releases.bind("hr-bot", "hr")
    first = zk.releases.scorecard("hr-bot")
    zk.edit_chunk("hr", zk.chunks("hr", "canteen.md")[0].id, "The canteen is closed.")
    second = zk.releases.scorecard("hr-bot")
    assert not second.candidate.reused and second.candidate.run.id != first.candidate.run.id


def test_force_publishes_and_records_who_and_why(zk: Zhiku) -> None:
    seed(zk)
    zk.releases.bind("hr-bot", "hr", metrics=["refusal"])
    zk.update_assistant("hr-bot", retrieval={"min_relevance": 0.99})
    with pytest.raises(InvalidInput, match="needs a reason"):
        zk.publish_assistant("hr-bot", force=True)
    version = zk.publish_assistant("hr-bot", force=True, reason="legal wants refusals",
                                   actor="alice")
    assert version == 2 and zk.get_assistant("hr-bot").published_version == 2
    release = zk.assistant_versions("hr-bot")[0]["release"]
    assert (release["forced_by"], release["force_reason"]) == ("alice", "legal wants refusals")
    assert [d["metric"] for d in release["regressions"]] == ["refusal"]  # the chosen metrics


def test_the_gate_passes_unchanged_and_fails_after_a_knowledge_base_change(zk: Zhiku) -> None:
    seed(zk)
    zk.releases.bind("hr-bot", "hr")
    zk.publish_assistant("hr-bot")  # v2, its scorecard stored
    stored = zk.assistant_versions("hr-bot")[0]["release"]["scorecard_run"]
    same = zk.releases.gate("hr-bot")
    assert same.passed and same.baseline is not None and same.baseline.run.id == stored
    assert same.candidate.run.id != stored and not same.candidate.reused  # run now
    break_kb(zk)
    broken = zk.releases.gate("hr-bot")
    assert not broken.passed
    worse = {d.metric for d in broken.regressions}
    assert {"ndcg@10", "refusal"} <= worse
    assert broken.baseline is not None and broken.baseline.run.id == stored
    assert "v2 now is worse than v2 stored on 'hr': ndcg@10: 1.0000 → 0.1250" in broken.message()


def test_the_gate_records_a_baseline_for_a_version_published_before_binding(zk: Zhiku) -> None:
    seed(zk)
    zk.releases.bind("hr-bot", "hr")
    first = zk.releases.gate("hr-bot")
    assert first.passed and first.baseline is None
    assert zk.assistant_versions("hr-bot")[0]["release"]["scorecard_run"] == first.candidate.run.id
    second = zk.releases.gate("hr-bot")
    assert second.baseline is not None and second.baseline.run.id == first.candidate.run.id


def test_the_gate_needs_a_binding_and_a_published_version(zk: Zhiku) -> None:
    seed(zk, publish=False)
    with pytest.raises(InvalidInput, match="not bound"):
        zk.releases.gate("hr-bot")
    zk.releases.bind("hr-bot", "hr")
    with pytest.raises(Conflict, match="no published version"):
        zk.releases.gate("hr-bot")
    card = zk.releases.scorecard("hr-bot")  # never published: nothing to compare with
    assert card.baseline is None and card.passed
    assert zk.publish_assistant("hr-bot") == 1
    with pytest.raises(NotFound):
        zk.releases.bind("hr-bot", "no-such-set")


def test_rollback_is_one_call(zk: Zhiku) -> None:
    seed(zk)
    zk.update_assistant("hr-bot", refusal_message="Not in the notes.")
    assert zk.publish_assistant("hr-bot") == 2
    zk.update_assistant("hr-bot", refusal_message="Ask HR.")
    assert zk.publish_assistant("hr-bot") == 3
    assert zk.rollback_assistant("hr-bot") == 2
    live = zk.get_assistant("hr-bot")
    assert live.published_version == 2 and live.published is not None
    assert live.published.refusal_message == "Not in the notes."
    assert zk.chat("hr-bot", "Where do visitors park spaceships?", store=False).answer.answer \
        == "Not in the notes."
    assert zk.rollback_assistant("hr-bot") == 1
    with pytest.raises(Conflict, match="no version before v1"):
        zk.rollback_assistant("hr-bot")
    assert zk.rollback_assistant("hr-bot", 3) == 3
    with pytest.raises(NotFound):
        zk.rollback_assistant("hr-bot", 9)
    assert [v["live"] for v in zk.assistant_versions("hr-bot")] == [True, False, False]


def test_a_draft_changed_while_it_was_checked_is_not_published(zk: Zhiku) -> None:
    seed(zk)
    checked = zk.get_assistant("hr-bot").draft
    zk.update_assistant("hr-bot", refusal_message="changed meanwhile")
    with pytest.raises(Conflict, match="changed while it was checked"):
        zk.llm.assistants.publish("hr-bot", expect=checked)
    assert zk.get_assistant("hr-bot").published_version == 1


def test_a_draft_config_is_evaluated_without_storing_a_conversation(zk: Zhiku) -> None:
    seed(zk)
    draft = zk.get_assistant("hr-bot").draft.model_copy(update={"refusal_message": "no"})
    target = zk.eval_target("app", "hr-bot")
    assert target.name == "app:hr-bot"
    stream = zk.llm.engine.stream("hr-bot", "Where do visitors park spaceships?", store=False,
                                  config=draft)
    assert [e.answer.answer for e in stream if e.answer is not None] == ["no"]
    with pytest.raises(InvalidInput, match="not stored"):
        zk.llm.engine.stream("hr-bot", "hi", config=draft)
    assert zk.list_conversations() == []


def test_a_draft_that_fails_on_every_question_is_refused(zk: Zhiku) -> None:
    seed(zk)
    zk.add_provider("nowhere", base_url="http://127.0.0.1:9/v1", models=["model"],
                    max_retries=0)
    zk.releases.bind("hr-bot", "hr")
    zk.update_assistant("hr-bot", model="nowhere/model")
    with pytest.raises(Conflict) as caught:
        zk.publish_assistant("hr-bot")
    assert "errors: 0.0000 → 1.0000 (Δ +1.0000" in caught.value.message
    assert zk.get_assistant("hr-bot").published_version == 1
