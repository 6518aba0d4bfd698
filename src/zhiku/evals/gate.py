"""``--fail-under METRIC=VALUE``: turn a run's summary into a CI gate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from zhiku.core.errors import InvalidInput


def parse_threshold(spec: str) -> tuple[str, float]:
    """``"ndcg@10=0.7"`` → ``("ndcg@10", 0.7)``."""
    name, sep, value = spec.partition("=")
    try:
        threshold = float(value)
    except ValueError:
        threshold = float("nan")
    if not sep or not name.strip() or threshold != threshold:
        raise InvalidInput(f"--fail-under expects METRIC=VALUE, got '{spec}'")
    return name.strip(), threshold


def failures(metrics: Mapping[str, float], specs: Iterable[str]) -> list[str]:
    """One message per threshold the metrics fall below; unknown metrics are an error."""
    out = []
    for spec in specs:
        name, threshold = parse_threshold(spec)
        if name not in metrics:
            raise InvalidInput(f"the run has no metric '{name}'; it has {sorted(metrics)}")
        if metrics[name] < threshold:
            out.append(f"{name} = {metrics[name]:.4f} is below {threshold:g}")
    return out
