"""Report charts as SVG text: metric bars, metric deltas, score distributions, latency.

Drawn from the primitives in ``svg`` (no plotting library). Bars carry their values as
tooltips; metric names and run labels are data and are escaped there."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from zhiku.evals.report import svg

COLORS = ("#3b6ea5", "#e08a2c", "#5a9e5a", "#b04a4a")
NEUTRAL = "#999999"
PLOT_HEIGHT = 220.0
TITLE_Y = 22.0

Interval = tuple[float, float]


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def _fmt(v: float) -> str:
    return f"{v:.3f}" if math.isfinite(v) else "—"


def _tip(label: str, value: float, interval: Interval) -> str:
    return f"{label}: {_fmt(value)} [{_fmt(interval[0])}, {_fmt(interval[1])}]"


def _header(title: str, labels: Sequence[str]) -> tuple[str, float]:
    """The title, then a legend row when there are several series; returns the markup and the
    height they take."""
    parts = [svg.text(12, TITLE_Y, title, size=svg.TITLE_SIZE, bold=True)]
    if len(labels) <= 1:
        return parts[0], TITLE_Y + 22
    parts.append(svg.legend([(lab, _color(s)) for s, lab in enumerate(labels)], 12,
                            TITLE_Y + 22))
    return "".join(parts), TITLE_Y + 44


def metric_bars(
    names: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], Sequence[Interval]]],
    title: str = "Metrics (mean, 95% interval)",
) -> str:
    """Grouped bars on [0, 1], one group per metric and one bar per series, with interval
    whiskers; a legend when there are several series."""
    header, top = _header(title, [label for label, _, _ in series])
    group = max(40.0, 24.0 * len(series) + 16)
    first = svg.text_width(svg.shorten(names[0])) * 0.71 if names else 0.0
    left = max(48.0, first - group / 2 + 12)
    longest = max((svg.text_width(svg.shorten(n)) for n in names), default=0.0)
    bottom = 24 + longest * 0.71
    width = max(480.0, left + group * len(names) + 16,
                12 + svg.legend_width([label for label, _, _ in series]))
    y = svg.Scale(0.0, 1.05, top + PLOT_HEIGHT, top)
    centers = [left + group * (i + 0.5) for i in range(len(names))]
    bw = 0.8 * group / max(1, len(series))
    marks = []
    for s, (label, means, intervals) in enumerate(series):
        for i, (name, m, (lo, hi)) in enumerate(zip(names, means, intervals, strict=True)):
            if not _finite(m):
                continue
            x = centers[i] + (s - (len(series) - 1) / 2) * bw
            marks.append(svg.bar(x - bw / 2, y(m), bw, y(0) - y(m), _color(s),
                                 _tip(f"{label} · {name}", m, (lo, hi))))
            if _finite(lo, hi):
                marks.append(svg.whisker(x, y(min(m, lo)), y(max(m, hi)),
                                         cap=min(4.0, bw / 3)))
    axis = svg.y_axis(y, svg.ticks(0, 1, 0.2), left, left + group * len(names),
                      svg.tick_format(0.2))
    base = svg.el("line", {"x1": left, "x2": left + group * len(names), "y1": y(0), "y2": y(0),
                           "stroke": svg.AXIS})
    return svg.document(width, top + PLOT_HEIGHT + bottom, title, header, axis, *marks, base,
                        svg.category_labels(centers, names, y(0)))


def _delta_color(lo: float, hi: float) -> str:
    """Green for an interval above zero, red below, grey when it holds zero (or is unknown)."""
    return COLORS[2] if lo > 0 else COLORS[3] if hi < 0 else NEUTRAL


def delta_bars(names: Sequence[str], deltas: Sequence[float],
               intervals: Sequence[Interval]) -> str:
    """Horizontal bars of B - A per metric, first metric on top, with their bootstrap intervals
    and values: green when the interval is above zero, red when below, grey when it holds
    zero."""
    title = "B - A (mean, 95% paired-bootstrap interval)"
    row, top, plot_w = 24.0, TITLE_Y + 16, 440.0
    left = 16 + max((svg.text_width(svg.shorten(n)) for n in names), default=0.0)
    height = top + row * len(names) + 40
    ext = max([abs(v) for d, iv in zip(deltas, intervals, strict=True) for v in (d, *iv)
               if math.isfinite(v)] + [0.05])
    step = svg.tick_step(-ext, ext, 6)
    bound = step * math.ceil(ext / step - 1e-9)
    x = svg.Scale(-bound, bound, left, left + plot_w)
    bottom_y = top + row * len(names)
    marks = []
    for i, (name, d, (lo, hi)) in enumerate(zip(names, deltas, intervals, strict=True)):
        cy = top + row * (i + 0.5)
        marks.append(svg.text(left - 8, cy + 4, svg.shorten(name), anchor="end"))
        marks.append(svg.text(left + plot_w + 8, cy + 4, f"{d:+.3f}" if _finite(d) else "—"))
        if not _finite(d):
            continue
        marks.append(svg.bar(min(x(0), x(d)), cy - row * 0.3, abs(x(d) - x(0)), row * 0.6,
                             _delta_color(lo, hi), _tip(name, d, (lo, hi))))
        if _finite(lo, hi):
            marks.append(svg.whisker(cy, x(min(d, lo)), x(max(d, hi)), vertical=False))
    grid = [svg.el("line", {"x1": x(v), "x2": x(v), "y1": top, "y2": bottom_y,
                            "stroke": svg.GRID}) for v in svg.ticks(-bound, bound, step)]
    zero = svg.el("line", {"x1": x(0), "x2": x(0), "y1": top - 4, "y2": bottom_y,
                           "stroke": "#000000", "stroke-width": 1})
    axis = svg.x_axis(x, svg.ticks(-bound, bound, step), bottom_y, svg.tick_format(step))
    return svg.document(left + plot_w + 64, height, title,
                        svg.text(12, TITLE_Y, title, size=svg.TITLE_SIZE, bold=True),
                        *grid, *marks, zero, axis)


def _histogram_panel(box: tuple[float, float, float, float], edges: Sequence[float],
                     counts: Mapping[str, Sequence[int]], x_step: float,
                     x_fmt: Callable[[float], str]) -> str:
    """Bars of ``counts`` per series side by side within each bin, in the plot box (x, y, w, h),
    with a count axis and an x axis ticked every ``x_step``."""
    ox, oy, w, h = box
    top_count, step = svg.nice_top(max((max(c, default=0) for c in counts.values()),
                                       default=0), 4, whole=True)
    x = svg.Scale(edges[0], edges[-1], ox, ox + w)
    y = svg.Scale(0, top_count, oy + h, oy)
    slot = w / (len(edges) - 1) / max(1, len(counts))
    marks = [svg.y_axis(y, svg.ticks(0, top_count, step), ox, ox + w, svg.tick_format(step),
                        size=11)]
    for s, (label, cs) in enumerate(counts.items()):
        for b, c in enumerate(cs):
            if c:
                tip = f"{label} · {x_fmt(edges[b])}–{x_fmt(edges[b + 1])}: {c}"
                marks.append(svg.bar(x(edges[b]) + slot * s + 0.5, y(c), slot - 1, y(0) - y(c),
                                     _color(s), tip))
    marks.append(svg.x_axis(x, svg.ticks(edges[0], edges[-1], x_step), oy + h, x_fmt, size=11))
    return "".join(marks)


def distributions(values: Mapping[str, Mapping[str, Sequence[float]]]) -> str:
    """Histograms of per-question scores (10 bins on [0, 1]): one panel per metric, one colour
    per run, side by side within a bin."""
    title = "Score distributions (questions per score bin)"
    names = list(values)
    labels = list(dict.fromkeys(label for per in values.values() for label in per))
    header, top = _header(title, labels)
    cols = min(3, max(1, len(names)))
    rows = (len(names) + cols - 1) // cols
    pw, ph = 300.0, 200.0  # a panel: its title, a 240 x 140 plot box, the x tick labels
    width = max(cols * pw + 8, 12 + svg.legend_width(labels))
    edges = [float(e) for e in np.histogram_bin_edges([], bins=10, range=(0, 1))]
    panels = []
    for i, name in enumerate(names):
        ox, oy = 8 + pw * (i % cols), top + ph * (i // cols)
        counts = {label: [int(c) for c in np.histogram(list(values[name].get(label, ())),
                                                        bins=10, range=(0, 1))[0]]
                  for label in labels}
        panels.append(svg.el("g", {"class": "panel"},
                             svg.text(ox + 164, oy + 16, svg.shorten(name, 40),
                                      anchor="middle", bold=True),
                             _histogram_panel((ox + 44, oy + 28, 240, 140), edges, counts, 0.2,
                                              svg.tick_format(0.1))))
    if not names:
        panels.append(svg.text(12, top + 16, "No per-question scores."))
    return svg.document(width, top + (rows * ph if rows else 30), title, header, *panels)


def latency_histogram(latencies: Mapping[str, Sequence[float]]) -> str:
    """Histogram of per-question latency (ms) in 30 bins over the range of all runs' latencies,
    one colour per run."""
    title = "Latency per question"
    labels = [label if xs else f"{label} (no data)" for label, xs in latencies.items()]
    header, top = _header(title, labels)
    left, w, h = 56.0, 540.0, 200.0
    width = max(left + w + 24, 12 + svg.legend_width(labels))
    every = [v for xs in latencies.values() for v in xs]
    if not every:
        return svg.document(width, top + 30, title, header,
                            svg.text(12, top + 16, "No answered questions."))
    edges = [float(e) for e in np.histogram_bin_edges(every, bins=30)]
    counts = {label: [int(c) for c in np.histogram(list(xs), bins=edges)[0]]
              for label, xs in latencies.items()}
    step = svg.tick_step(edges[0], edges[-1], 8)
    plot = _histogram_panel((left, top, w, h), edges, counts, step,
                            svg.tick_format(step, grouped=True))
    xlabel = svg.text(left + w / 2, top + h + 40, "latency (ms)", anchor="middle")
    ylabel = svg.text(16, top + h / 2, "questions", anchor="middle", rotate=-90)
    return svg.document(width, top + h + 52, title, header, plot, xlabel, ylabel)
