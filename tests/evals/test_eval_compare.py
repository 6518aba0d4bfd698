"""The paired bootstrap on constructed cases whose answer is known."""

from __future__ import annotations

import pytest

from zhiku.evals.compare import compare_results, key_metric, paired_bootstrap
from zhiku.evals.types import QuestionResult


def _results(values: list[float], metric: str = "ndcg@10") -> list[QuestionResult]:
    return [QuestionResult(i, f"q{i}", f"question {i}", [], {metric: v, "other": 1.0}, 1.0)
            for i, v in enumerate(values)]


def test_constant_shift_has_a_zero_width_interval() -> None:
    a = [0.1 * (i % 7) for i in range(50)]
    b = [x + 0.1 for x in a]
    delta, low, high = paired_bootstrap(a, b)
    assert delta == pytest.approx(0.1)
    assert low == pytest.approx(0.1) and high == pytest.approx(0.1)


def test_half_the_questions_flip_from_0_to_1() -> None:
    # Differences are Bernoulli(0.5) over n=100: mean 0.5, standard error sqrt(.25/100) = 0.05,
    # so the 95% interval is 0.5 ± 1.96 × 0.05 ≈ [0.40, 0.60].
    a = [0.0] * 100
    b = [1.0] * 50 + [0.0] * 50
    delta, low, high = paired_bootstrap(a, b, seed=1, resamples=4000)
    assert delta == pytest.approx(0.5)
    assert 0.38 < low < 0.43 and 0.57 < high < 0.62
    assert paired_bootstrap(a, b, seed=1, resamples=4000) == (delta, low, high)  # seeded


def test_pairing_matters() -> None:
    # Run B = run A + 0.01 on every question: a tiny but perfectly consistent gain. Paired,
    # it is significant; the per-question spread is irrelevant.
    a = [i / 100 for i in range(100)]
    b = [x + 0.01 for x in a]
    cmp = compare_results(1, _results(a), 2, _results(b))
    nd = next(d for d in cmp.deltas if d.metric == "ndcg@10")
    assert nd.delta == pytest.approx(0.01) and nd.significant and nd.n == 100
    other = next(d for d in cmp.deltas if d.metric == "other")
    assert other.delta == 0 and not other.significant
    assert len(cmp.improved) == 100 and cmp.regressed == []


def test_changed_questions_and_unpaired() -> None:
    a = _results([1.0, 0.5, 0.0, 0.3])
    b = _results([0.0, 0.5, 1.0])  # q3 is missing from B
    cmp = compare_results(1, a, 2, b)
    assert cmp.key_metric == "ndcg@10"
    assert [c.ext_id for c in cmp.improved] == ["q2"]
    assert [(c.ext_id, c.delta) for c in cmp.regressed] == [("q0", -1.0)]
    assert cmp.only_in_a == 1 and cmp.only_in_b == 0
    nd = next(d for d in cmp.deltas if d.metric == "ndcg@10")
    assert nd.n == 3 and nd.delta == pytest.approx(0.0)
    assert not nd.significant


def test_key_metric() -> None:
    assert key_metric(["hit@1", "ndcg@3", "ndcg@10", "f1"]) == "ndcg@10"
    assert key_metric(["em", "f1"]) == "f1"
    assert key_metric(["refusal"]) == "refusal"
