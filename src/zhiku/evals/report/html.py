"""HTML rendering: one self-contained page (charts as inline SVG, inline CSS)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

CSS = """
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.num{text-align:right;
font-variant-numeric:tabular-nums}.up{color:#2f7d32}.down{color:#b04a4a}
.passage{font-size:90%;color:#444;white-space:pre-wrap;margin:2px 0 6px}
details{margin:.6em 0;border-left:3px solid #ddd;padding-left:.8em}
figure.chart{margin:1em 0}figure.chart svg{max-width:100%;height:auto}
"""


def figure(chart_svg: str) -> str:
    """A chart inline in the page; ``chart_svg`` comes from ``charts`` (its text is escaped)."""
    return f'<figure class="chart">{chart_svg}</figure>'


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A table; floats shown with 4 decimals, everything escaped."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f'<td class="num">{v:.4f}</td>'
        if isinstance(v, int):
            return f'<td class="num">{v}</td>'
        if isinstance(v, Raw):
            return f"<td>{v.html}</td>"
        return f"<td>{escape(str(v))}</td>"
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Raw:
    """Markup that ``table`` must not escape (already built from escaped parts)."""

    def __init__(self, html: str) -> None:
        self.html = html


def page(title: str, sections: Sequence[str]) -> str:
    """The whole document."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>" + "\n".join(sections) + "</body></html>\n"
    )


def passages(items: Iterable[tuple[str, str, float]], limit: int = 600) -> str:
    """Retrieved passages: (source, text, score) each as a short quoted block."""
    out = []
    for n, (source, text, score) in enumerate(items, 1):
        snippet = text if len(text) <= limit else text[:limit] + "…"
        out.append(f"<div><b>{n}.</b> {escape(source)} <small>({score:.4f})</small>"
                   f'<div class="passage">{escape(snippet)}</div></div>')
    return "".join(out)
