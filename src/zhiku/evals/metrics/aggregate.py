"""Aggregates over per-question values: means, percentiles and bootstrap intervals."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are defined (``math.fsum``, as ``statistics.fmean``); None when
    none is."""
    xs = [v for v in values if v is not None and not math.isnan(v)]
    return math.fsum(xs) / len(xs) if xs else None


def percentile(values: Sequence[float], p: float) -> float:
    """Percentile with linear interpolation (numpy's default); NaN for no values."""
    return float(np.percentile(values, p)) if len(values) else float("nan")


def bootstrap_ci(
    values: Sequence[float], *, seed: int = 0, resamples: int = 2000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean."""
    xs = np.asarray(values, dtype=np.float64)
    if xs.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, xs.size, size=(resamples, xs.size))
    means = xs[idx].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    return (float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail)))


def summarize(per_question: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Mean of every metric over the questions that have it."""
    names: dict[str, None] = {}
    for m in per_question:
        names.update(dict.fromkeys(m))
    out: dict[str, float] = {}
    for name in names:
        value = mean(m.get(name) for m in per_question)
        if value is not None:
            out[name] = value
    return out
