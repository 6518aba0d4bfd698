"""PNG charts (matplotlib, Agg canvas, no pyplot global state): bars, distributions, latency."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from zhiku.core.errors import MissingDependency

COLORS = ("#3b6ea5", "#e08a2c", "#5a9e5a", "#b04a4a")


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise MissingDependency("charts need matplotlib: pip install matplotlib") from exc
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def metric_bars(
    names: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], Sequence[tuple[float, float]]]],
    title: str = "Metrics (mean, 95% interval)",
) -> bytes:
    """Grouped bars, one group per metric and one bar per series, with interval whiskers."""
    fig = _figure(max(6.0, 0.6 * len(names) * len(series) + 2), 3.6)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(series))
    for s, (label, means, intervals) in enumerate(series):
        xs = [i + (s - (len(series) - 1) / 2) * width for i in range(len(names))]
        lows = [max(0.0, m - lo) for m, (lo, _) in zip(means, intervals, strict=True)]
        highs = [max(0.0, hi - m) for m, (_, hi) in zip(means, intervals, strict=True)]
        ax.bar(xs, means, width, yerr=[lows, highs], capsize=3, label=label,
               color=COLORS[s % len(COLORS)])
    ax.set_xticks(range(len(names)), list(names), rotation=45, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend()
    return _png(fig)


def delta_bars(names: Sequence[str], deltas: Sequence[float],
               intervals: Sequence[tuple[float, float]]) -> bytes:
    """Horizontal bars of B - A per metric with their bootstrap intervals."""
    fig = _figure(6.5, max(2.5, 0.35 * len(names) + 1))
    ax = fig.add_subplot()
    lows = [max(0.0, d - lo) for d, (lo, _) in zip(deltas, intervals, strict=True)]
    highs = [max(0.0, hi - d) for d, (_, hi) in zip(deltas, intervals, strict=True)]
    colors = [COLORS[2] if lo > 0 else COLORS[3] if hi < 0 else "#999999"
              for lo, hi in intervals]
    ax.barh(range(len(names)), deltas, xerr=[lows, highs], capsize=3, color=colors)
    ax.set_yticks(range(len(names)), list(names))
    ax.axvline(0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_title("B - A (mean, 95% paired-bootstrap interval)")
    return _png(fig)


def distributions(values: Mapping[str, Mapping[str, Sequence[float]]]) -> bytes:
    """Histograms of per-question scores: one panel per metric, one colour per run."""
    names = list(values)
    cols = min(3, max(1, len(names)))
    rows = (len(names) + cols - 1) // cols or 1
    fig = _figure(3.2 * cols, 2.4 * rows)
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        for s, (label, xs) in enumerate(values[name].items()):
            ax.hist(list(xs), bins=10, range=(0, 1), alpha=0.6, label=label,
                    color=COLORS[s % len(COLORS)])
        ax.set_title(name, fontsize=9)
        if len(values[name]) > 1 and i == 0:
            ax.legend(fontsize=7)
    return _png(fig)


def latency_histogram(latencies: Mapping[str, Sequence[float]]) -> bytes:
    """Histogram of per-question latency (ms), one colour per run."""
    fig = _figure(6.0, 3.0)
    ax = fig.add_subplot()
    for s, (label, xs) in enumerate(latencies.items()):
        if xs:
            ax.hist(list(xs), bins=30, alpha=0.6, label=label, color=COLORS[s % len(COLORS)])
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Latency per question")
    if len(latencies) > 1:
        ax.legend()
    return _png(fig)
