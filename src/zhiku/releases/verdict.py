"""Whether a candidate run is worse than a baseline run, from the paired comparison.

Pure: reads the metric deltas ``zhiku.evals.compare`` computed (candidate minus baseline, with
paired-bootstrap intervals over the questions) and names the primary metrics whose whole
interval lies on the worse side of zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from zhiku.core.errors import InvalidInput
from zhiku.evals.compare import Comparison, MetricDelta, key_metric, paired_bootstrap
from zhiku.evals.types import QuestionResult

DEFAULT_ANSWER_METRICS = ("refusal", "f1", "citation_recall")
"""Primary answer metrics (when a binding names none), beside the key retrieval metric."""
ERRORS = "errors"
"""The share of questions a run failed on (a model or a knowledge base that errs), always
primary: metrics are compared over the questions both runs answered, so a candidate failing
everywhere would otherwise have nothing worse to show."""
LOWER_IS_BETTER = frozenset({"false_refusal", ERRORS})
_CUTOFF = re.compile(r"^(hit|recall|ndcg|mrr)@([1-9][0-9]*)$")
_PLAIN = frozenset({"em", "f1", "citation_precision", "citation_recall", "refusal",
                    "false_refusal", "correct_refusal", "contains_answer", "cites_expected",
                    ERRORS})


def check_metrics(names: Sequence[str], top_k: int) -> None:
    """``InvalidInput`` for a name no scorecard run at depth ``top_k`` can have (a typo, a
    cut-off deeper than the run)."""
    for name in names:
        cut = _CUTOFF.match(name)
        if cut is not None and int(cut[2]) > top_k:
            raise InvalidInput(f"metric '{name}' is deeper than the runs (top_k {top_k})")
        if cut is None and name not in _PLAIN:
            raise InvalidInput(f"unknown metric '{name}': one of hit@k, recall@k, ndcg@k, "
                               f"mrr@k, {', '.join(sorted(_PLAIN))}")


def primary_metrics(names: Sequence[str], chosen: Sequence[str] = ()) -> list[str]:
    """The metrics that gate a release: ``chosen``, else the deepest nDCG and the default
    answer metrics, of those the runs have."""
    if chosen:
        return [m for m in dict.fromkeys((*chosen, ERRORS)) if m in names]
    ndcg = key_metric([n for n in names if n.startswith("ndcg@")])
    return [m for m in (ndcg, *DEFAULT_ANSWER_METRICS, ERRORS) if m and m in names]


def error_delta(a: Sequence[QuestionResult], b: Sequence[QuestionResult]) -> MetricDelta | None:
    """``errors`` of run B against run A over the questions both hold, with the same paired
    bootstrap as every other metric; None when neither run failed on any."""
    failed_a = {r.ext_id: float(r.error is not None) for r in a}
    failed_b = {r.ext_id: float(r.error is not None) for r in b}
    shared = [k for k in failed_a if k in failed_b]
    xs, ys = [failed_a[k] for k in shared], [failed_b[k] for k in shared]
    if not any(xs) and not any(ys):
        return None
    delta, low, high = paired_bootstrap(xs, ys)
    return MetricDelta(ERRORS, len(shared), sum(xs) / len(xs), sum(ys) / len(ys), delta, low,
                       high)


def worse(delta: MetricDelta) -> bool:
    """The candidate is worse beyond the interval: it lies wholly on the worse side of 0."""
    if delta.metric in LOWER_IS_BETTER:
        return delta.low > 0
    return delta.high < 0


def regressions(comparison: Comparison, primary: Sequence[str]) -> list[MetricDelta]:
    """The primary metrics on which run B (the candidate) is worse than run A (``deltas``
    may hold ``error_delta``'s too)."""
    wanted = set(primary)
    return [d for d in comparison.deltas if d.metric in wanted and worse(d)]


def describe(delta: MetricDelta) -> str:
    """``refusal: 1.0000 → 0.2500 (Δ -0.7500, 95% paired-bootstrap interval [-1.0000,
    -0.5000], n=4)``."""
    return (f"{delta.metric}: {delta.a:.4f} → {delta.b:.4f} (Δ {delta.delta:+.4f}, 95% "
            f"paired-bootstrap interval [{delta.low:+.4f}, {delta.high:+.4f}], n={delta.n})")


def delta_dict(delta: MetricDelta) -> dict[str, float | int | str | bool]:
    """One delta as flat JSON (the error details and the faces' output)."""
    return {"metric": delta.metric, "n": delta.n, "a": delta.a, "b": delta.b,
            "delta": delta.delta, "low": delta.low, "high": delta.high,
            "worse": worse(delta)}
