"""Comparing two runs question by question: metric deltas with paired-bootstrap intervals.

Questions are paired by their id in the eval set; a metric is compared over the questions
where both runs have it. The bootstrap resamples questions (not runs), so the interval says
how much the mean difference could move with another sample of questions like these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from zhiku.evals import runs
from zhiku.evals.store import EvalStore
from zhiku.evals.types import QuestionResult


@dataclass(slots=True)
class MetricDelta:
    """One metric of run A against run B over ``n`` paired questions."""

    metric: str
    n: int
    a: float
    b: float
    delta: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """True when the interval excludes zero."""
        return self.low > 0 or self.high < 0


@dataclass(slots=True)
class ChangedQuestion:
    """A question whose key metric moved between the runs; ``withheld`` (its text empty) when
    either run's question is withheld from the reader (``zhiku.evals.withhold``)."""

    ext_id: str
    question: str
    a: float
    b: float
    withheld: bool = False

    @property
    def delta(self) -> float:
        """b - a."""
        return self.b - self.a


@dataclass(slots=True)
class Comparison:
    """Everything ``zhiku eval compare`` shows."""

    run_a: int
    run_b: int
    key_metric: str
    deltas: list[MetricDelta] = field(default_factory=list)
    improved: list[ChangedQuestion] = field(default_factory=list)
    regressed: list[ChangedQuestion] = field(default_factory=list)
    only_in_a: int = 0
    only_in_b: int = 0


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, seed: int = 0, resamples: int = 2000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean of b - a and its percentile-bootstrap interval, resampling the pairs."""
    diffs = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    if diffs.size == 0:
        return (float("nan"), float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, diffs.size, size=(resamples, diffs.size))
    means = diffs[idx].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    return (float(diffs.mean()), float(np.percentile(means, tail)),
            float(np.percentile(means, 100 - tail)))


def key_metric(names: Sequence[str]) -> str:
    """The metric that decides "changed": nDCG at the deepest cut-off, else F1, else the first."""
    ndcgs = sorted((n for n in names if n.startswith("ndcg@")), key=lambda n: int(n[5:]))
    if ndcgs:
        return ndcgs[-1]
    for name in ("f1", "refusal"):
        if name in names:
            return name
    return names[0] if names else ""


def compare_results(
    run_a: int, a: Sequence[QuestionResult], run_b: int, b: Sequence[QuestionResult], *,
    seed: int = 0, resamples: int = 2000, metric: str | None = None, eps: float = 1e-9,
) -> Comparison:
    """Deltas of every shared metric and the questions whose key metric changed."""
    by_a = {r.ext_id: r for r in a if r.error is None}
    by_b = {r.ext_id: r for r in b if r.error is None}
    shared = [k for k in by_a if k in by_b]
    names = [n for n in dict.fromkeys(n for k in shared for n in by_a[k].metrics)
             if any(n in by_b[k].metrics for k in shared)]
    key = metric or key_metric(names)
    out = Comparison(run_a, run_b, key, only_in_a=len(set(by_a) - set(by_b)),
                     only_in_b=len(set(by_b) - set(by_a)))
    for name in names:
        pairs = [(by_a[k].metrics[name], by_b[k].metrics[name]) for k in shared
                 if name in by_a[k].metrics and name in by_b[k].metrics]
        xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
        delta, low, high = paired_bootstrap(xs, ys, seed=seed, resamples=resamples)
        out.deltas.append(MetricDelta(name, len(pairs), float(np.mean(xs)), float(np.mean(ys)),
                                      delta, low, high))
    for k in shared:
        ra, rb = by_a[k], by_b[k]
        if key not in ra.metrics or key not in rb.metrics:
            continue
        shown = bool(ra.question and rb.question)  # a withheld question has no text
        change = ChangedQuestion(k, ra.question if shown else "", ra.metrics[key],
                                 rb.metrics[key], withheld=not shown)
        if change.delta > eps:
            out.improved.append(change)
        elif change.delta < -eps:
            out.regressed.append(change)
    out.improved.sort(key=lambda c: -c.delta)
    out.regressed.sort(key=lambda c: c.delta)
    return out


def compare_runs(
    store: EvalStore, run_a: int, run_b: int, *, seed: int = 0, resamples: int = 2000,
    metric: str | None = None,
) -> Comparison:
    """Compare two stored runs."""
    return compare_results(run_a, runs.results(store, run_a), run_b, runs.results(store, run_b),
                           seed=seed, resamples=resamples, metric=metric)
