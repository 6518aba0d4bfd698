"""What the evaluation endpoints show beyond the stored runs: failing questions, metric
intervals and distributions for charts, and JSON-safe numbers (no NaN)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from zhiku.evals import why
from zhiku.evals.metrics.aggregate import bootstrap_ci
from zhiku.evals.report.build import is_failure
from zhiku.evals.types import EvalQuestion, QuestionResult

BINS = 10


def clean(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def failed(r: QuestionResult, top_k: int) -> bool:
    """An error, or what the HTML report lists as a failing question."""
    return r.error is not None or is_failure(r.metrics, top_k)


def result_out(r: QuestionResult, top_k: int, expected: EvalQuestion | None) -> dict[str, Any]:
    """One question's result, with what was expected and whether it failed."""
    return clean({
        "ord": r.ord, "id": r.ext_id, "question": r.question, "failed": failed(r, top_k),
        "reasons": ["error"] if r.error is not None else why.reasons(r.metrics, top_k),
        "metrics": r.metrics, "latency_ms": r.latency_ms, "answer": r.answer,
        "refused": r.refused, "citations": r.citations, "error": r.error,
        "withheld": r.withheld,
        "retrieved": [asdict(x) for x in r.retrieved],
        "prompt_tokens": r.usage.prompt_tokens, "completion_tokens": r.usage.completion_tokens,
        "cost": r.usage.cost, "judge": None if r.judge is None else r.judge.to_dict(),
        "expected_sources": dict(expected.expected_sources) if expected else {},
        "reference_answers": list(expected.reference_answers) if expected else [],
        "answerable": expected.answerable if expected else None,
    })


def _histogram(values: Sequence[float], low: float, high: float) -> list[int]:
    counts = [0] * BINS
    span = (high - low) or 1.0
    for v in values:
        counts[min(BINS - 1, max(0, int((v - low) / span * BINS)))] += 1
    return counts


def distributions(results: Sequence[QuestionResult], top_k: int) -> dict[str, Any]:
    """Per metric: mean, 95% bootstrap interval and a 10-bin histogram over 0..1; and the
    latency histogram (10 bins from 0 to the slowest question)."""
    ok = [r for r in results if r.error is None]
    names = list(dict.fromkeys(n for r in ok for n in r.metrics))
    metrics: dict[str, Any] = {}
    for name in names:
        values = [r.metrics[name] for r in ok if name in r.metrics]
        low, high = bootstrap_ci(values)
        metrics[name] = {"n": len(values), "mean": sum(values) / len(values), "low": low,
                         "high": high, "histogram": _histogram(values, 0.0, 1.0)}
    latencies = [r.latency_ms for r in ok]
    top = max(latencies, default=0.0)
    return clean({
        "metrics": metrics,
        "latency": {"max_ms": top, "histogram": _histogram(latencies, 0.0, top)},
        "failing": sum(1 for r in results if failed(r, top_k)),
        "reasons": reason_counts(results, top_k),
    })


def reason_counts(results: Sequence[QuestionResult], top_k: int) -> dict[str, int]:
    """How many questions failed for each root cause (a question counts once, for its
    first reason)."""
    counts: dict[str, int] = {}
    for r in results:
        found = ["error"] if r.error is not None else why.reasons(r.metrics, top_k)
        if found:
            counts[found[0]] = counts.get(found[0], 0) + 1
    return counts
