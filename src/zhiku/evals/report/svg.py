"""SVG building blocks for the report charts: escaped elements, linear scales, tick steps, axes,
bars, whiskers and legends. Pure functions that return markup strings; every piece of text and
every attribute value goes through ``esc``, so labels taken from the data stay text."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

# The report page's font list, CJK faces included so Chinese labels render.
FONT = ("system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', "
        "'Source Han Sans SC', 'WenQuanYi Micro Hei', sans-serif")
FONT_SIZE = 12
TITLE_SIZE = 14
INK = "#222222"
AXIS = "#555555"
GRID = "#e5e5e5"

# Characters XML 1.0 does not allow, even escaped: replaced so the chart stays well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(value: object) -> str:
    """Text or an attribute value, escaped for XML and HTML alike."""
    return escape(_NOT_XML.sub("\ufffd", str(value)), quote=True)


def num(v: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def el(tag: str, attrs: Mapping[str, object], *children: str) -> str:
    """An element; ``children`` is markup already built (by ``el``, ``text``, ``esc``)."""
    parts = "".join(f' {k}="{num(v) if isinstance(v, float) else esc(v)}"'
                    for k, v in attrs.items() if v is not None)
    return f"<{tag}{parts}>{''.join(children)}</{tag}>" if children else f"<{tag}{parts}/>"


def text(x: float, y: float, label: str, *, anchor: str = "start", size: int = FONT_SIZE,
         rotate: float | None = None, bold: bool = False, cls: str | None = None) -> str:
    """A text label (escaped); ``rotate`` turns it about its anchor point, in degrees."""
    return el("text", {
        "x": x, "y": y, "text-anchor": anchor, "font-size": size,
        "font-weight": "bold" if bold else None, "class": cls,
        "transform": f"rotate({num(rotate)} {num(x)} {num(y)})" if rotate else None,
    }, esc(label))


def text_width(label: str, size: int = FONT_SIZE) -> float:
    """Rough rendered width: wide (CJK) characters one em, the others about 0.6 em."""
    ems = sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in label)
    return ems * size


def shorten(label: str, limit: int = 32) -> str:
    """``label`` cut to ``limit`` characters with an ellipsis (the full text goes in a tooltip)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


@dataclass(frozen=True)
class Scale:
    """Linear map from the data interval [d0, d1] onto the pixel interval [r0, r1]."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, v: float) -> float:
        span = self.d1 - self.d0
        if span == 0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (v - self.d0) / span * (self.r1 - self.r0)


def tick_step(lo: float, hi: float, count: int = 5, *, whole: bool = False) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``count`` ticks."""
    raw = (hi - lo) / count if hi > lo else 1.0
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    return max(1.0, math.ceil(step)) if whole else step


def ticks(lo: float, hi: float, step: float) -> list[float]:
    """Multiples of ``step`` within [lo, hi]."""
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def nice_top(hi: float, count: int = 5, *, whole: bool = False) -> tuple[float, float]:
    """(top, step): an axis from 0 to a round ``top`` at or above ``hi``."""
    step = tick_step(0.0, hi, count, whole=whole) if hi > 0 else 1.0
    return step * max(1, math.ceil(hi / step - 1e-9)), step


def tick_format(step: float, *, grouped: bool = False) -> Callable[[float], str]:
    """Labels with as many decimals as ``step`` needs (``grouped``: thousands separators)."""
    decimals = 0
    while decimals < 6 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-9:
        decimals += 1
    spec = f"{',' if grouped else ''}.{decimals}f"
    return lambda v: format(v, spec)


def y_axis(y: Scale, values: Sequence[float], x0: float, x1: float,
           fmt: Callable[[float], str], size: int = FONT_SIZE) -> str:
    """Grid lines across [x0, x1] at ``values``, their labels left of x0, and the axis line."""
    out = [el("line", {"x1": x0, "x2": x1, "y1": y(v), "y2": y(v), "stroke": GRID})
           + text(x0 - 5, y(v) + size * 0.35, fmt(v), anchor="end", size=size) for v in values]
    out.append(el("line", {"x1": x0, "x2": x0, "y1": y.r0, "y2": y.r1, "stroke": AXIS}))
    return el("g", {"class": "axis y"}, *out)


def x_axis(x: Scale, values: Sequence[float], y0: float, fmt: Callable[[float], str],
           size: int = FONT_SIZE) -> str:
    """The axis line at y0, tick marks at ``values`` with their labels below."""
    out = [el("line", {"x1": x.r0, "x2": x.r1, "y1": y0, "y2": y0, "stroke": AXIS})]
    for v in values:
        out.append(el("line", {"x1": x(v), "x2": x(v), "y1": y0, "y2": y0 + 4, "stroke": AXIS}))
        out.append(text(x(v), y0 + 6 + size, fmt(v), anchor="middle", size=size))
    return el("g", {"class": "axis x"}, *out)


def category_labels(centers: Sequence[float], labels: Sequence[str], y0: float) -> str:
    """Category names under the x axis at y0, slanted 45 degrees and ending at their tick."""
    out = []
    for cx, label in zip(centers, labels, strict=True):
        out.append(el("line", {"x1": cx, "x2": cx, "y1": y0, "y2": y0 + 4, "stroke": AXIS}))
        out.append(text(cx + 4, y0 + 6 + FONT_SIZE * 0.7, shorten(label), anchor="end",
                        rotate=-45))
    return el("g", {"class": "axis x"}, *out)


def bar(x: float, y: float, width: float, height: float, color: str, tip: str) -> str:
    """A filled bar with its value as a tooltip."""
    return el("rect", {"class": "bar", "x": x, "y": y, "width": max(0.0, width),
                       "height": max(0.0, height), "fill": color}, el("title", {}, esc(tip)))


def whisker(at: float, lo: float, hi: float, *, cap: float = 4.0,
            vertical: bool = True) -> str:
    """An interval from ``lo`` to ``hi`` (pixels) with end caps, at position ``at``."""
    if vertical:
        d = (f"M{num(at)},{num(lo)}V{num(hi)}M{num(at - cap)},{num(lo)}H{num(at + cap)}"
             f"M{num(at - cap)},{num(hi)}H{num(at + cap)}")
    else:
        d = (f"M{num(lo)},{num(at)}H{num(hi)}M{num(lo)},{num(at - cap)}V{num(at + cap)}"
             f"M{num(hi)},{num(at - cap)}V{num(at + cap)}")
    return el("path", {"class": "whisker", "d": d, "stroke": INK, "stroke-width": 1.2,
                       "fill": "none"})


def legend(entries: Sequence[tuple[str, str]], x: float, y: float) -> str:
    """(label, colour) entries in a row starting at (x, y): a swatch and the label each."""
    out = []
    for label, color in entries:
        out.append(el("g", {"class": "legend-entry"},
                      el("rect", {"x": x, "y": y - 10, "width": 12, "height": 12,
                                  "fill": color}),
                      text(x + 17, y, label)))
        x += 17 + text_width(label) + 18
    return el("g", {"class": "legend"}, *out)


def legend_width(labels: Sequence[str]) -> float:
    """Width ``legend`` takes for these labels."""
    return sum(17 + text_width(label) + 18 for label in labels)


def document(width: float, height: float, title: str, *body: str) -> str:
    """The ``<svg>`` root: a fixed size that scales down with CSS, a title for screen readers,
    the report's fonts."""
    return el("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "width": math.ceil(width),
        "height": math.ceil(height), "viewBox": f"0 0 {math.ceil(width)} {math.ceil(height)}",
        "role": "img", "aria-label": title, "font-family": FONT, "font-size": FONT_SIZE,
        "fill": INK,
    }, el("title", {}, esc(title)), el("rect", {"width": "100%", "height": "100%",
                                                "fill": "#ffffff"}), *body)
