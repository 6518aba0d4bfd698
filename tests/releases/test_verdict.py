"""The release verdict over paired deltas: which metrics are primary, and which way is worse."""

from __future__ import annotations

import pytest

from zhiku.core.errors import InvalidInput
from zhiku.evals.compare import Comparison, MetricDelta
from zhiku.evals.types import QuestionResult
from zhiku.releases import verdict

NAMES = ["hit@1", "ndcg@3", "ndcg@10", "refusal", "false_refusal", "f1", "errors"]


def delta(metric: str, low: float, high: float) -> MetricDelta:
    return MetricDelta(metric, 8, 0.5, 0.5 + (low + high) / 2, (low + high) / 2, low, high)


def test_primary_metrics_default_and_chosen() -> None:
    assert verdict.primary_metrics(NAMES) == ["ndcg@10", "refusal", "f1", "errors"]
    assert verdict.primary_metrics(NAMES, ["f1", "mrr@10"]) == ["f1", "errors"]
    assert verdict.primary_metrics(["hit@1"]) == []


def test_worse_means_the_whole_interval_on_the_worse_side() -> None:
    assert verdict.worse(delta("f1", -0.4, -0.1))
    assert not verdict.worse(delta("f1", -0.4, 0.0))  # touches zero: could be no change
    assert not verdict.worse(delta("f1", 0.1, 0.4))
    assert verdict.worse(delta("false_refusal", 0.1, 0.4))  # lower is better
    assert not verdict.worse(delta("false_refusal", -0.4, -0.1))
    cmp = Comparison(1, 2, "f1", deltas=[delta("f1", -0.4, -0.1), delta("hit@1", -0.4, -0.1)])
    assert [d.metric for d in verdict.regressions(cmp, ["f1"])] == ["f1"]
    assert verdict.describe(delta("f1", -0.4, -0.1)) == (
        "f1: 0.5000 → 0.2500 (Δ -0.2500, 95% paired-bootstrap interval [-0.4000, -0.1000], n=8)")


def test_errors_are_paired_like_any_metric() -> None:
    def results(failed: set[str]) -> list[QuestionResult]:
        return [QuestionResult(n, str(n), "q", [], {}, 1.0,
                               error="boom" if str(n) in failed else None) for n in range(8)]

    assert verdict.error_delta(results(set()), results(set())) is None
    found = verdict.error_delta(results(set()), results({str(n) for n in range(8)}))
    assert found is not None and (found.a, found.b, found.low, found.high) == (0, 1, 1, 1)
    assert verdict.worse(found)


def test_chosen_metrics_are_checked() -> None:
    verdict.check_metrics(["ndcg@10", "mrr@5", "f1", "errors", "false_refusal"], 10)
    with pytest.raises(InvalidInput, match="unknown metric 'ndcg'"):
        verdict.check_metrics(["ndcg"], 10)
    with pytest.raises(InvalidInput, match="deeper than the runs"):
        verdict.check_metrics(["recall@20"], 10)
