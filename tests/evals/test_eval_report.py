"""HTML reports: the page parses, every chart is an inline SVG that parses as XML with the marks
the data calls for, text from the data is escaped, and the SVG files exist."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from zhiku.evals import compare, runs, sets
from zhiku.evals.beir import run_beir
from zhiku.evals.report import charts, write_compare_report, write_run_report
from zhiku.evals.report.build import is_failure
from zhiku.evals.targets import KbTarget
from zhiku.evals.types import EvalQuestion
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

NS = "{http://www.w3.org/2000/svg}"
NASTY = '<b>&"x"'


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(path: Path) -> tuple[_Page, list[ET.Element]]:
    """The page (which must parse as HTML, with no images) and its inline charts as XML."""
    html = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    page.close()
    assert page.tags[:2] == ["html", "head"] and "body" in page.tags and "img" not in page.tags
    svgs = [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]
    assert svgs and all(s.tag == f"{NS}svg" for s in svgs)
    return page, svgs


def _marks(chart: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in chart.iter(f"{NS}{tag}") if e.get("class") == cls]


def _counts(chart: ET.Element, tag: str = "rect", cls: str = "bar") -> dict[str, int]:
    """Bar, whisker and legend-entry counts of a chart."""
    return {"bars": len(_marks(chart, tag, cls)), "whiskers": len(_marks(chart, "path", "whisker")),
            "legend": len(_marks(chart, "g", "legend-entry"))}


def _texts(chart: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in chart.iter(f"{NS}text")]


def _bin_counts(chart: ET.Element) -> list[int]:
    """Counts from the histogram bars' tooltips (``label · low–high: count``)."""
    return [int((bar.findtext(f"{NS}title") or "").rsplit(": ", 1)[1])
            for bar in _marks(chart, "rect", "bar")]


def _files(out: Path, stem: str, names: tuple[str, ...], inline: list[ET.Element]) -> None:
    """The separate .svg files exist, parse, and are the charts shown in the page."""
    assert len(inline) == len(names)
    files = {ET.tostring(ET.parse(out / f"{stem}-{n}.svg").getroot()) for n in names}
    assert files == {ET.tostring(s) for s in inline}
    assert not list(out.glob("*.png"))


@pytest.fixture
def two_runs(zk: Zhiku, beir_slice: Path) -> tuple[int, int]:
    result = run_beir(zk, zk.evals, beir_slice, embedder="hashing", modes=("hybrid", "keyword"),
                      keep=True)
    return result.runs["hybrid"].id, result.runs["keyword"].id


def test_run_report(zk: Zhiku, two_runs: tuple[int, int], tmp_path: Path) -> None:
    run_id = two_runs[0]
    path = write_run_report(zk.evals, zk.store, run_id, tmp_path / "out")
    assert path == tmp_path / "out" / f"run-{run_id}.html"
    page, svgs = _parse(path)
    _files(tmp_path / "out", f"run-{run_id}", ("metrics", "distributions", "latency"), svgs)
    metrics, dists, latency = svgs
    names = list(dict.fromkeys(n for r in runs.results(zk.evals, run_id) for n in r.metrics))
    assert _counts(metrics) == {"bars": len(names), "whiskers": len(names), "legend": 0}
    assert set(names) <= set(_texts(metrics))
    assert sum(_bin_counts(latency)) == len(runs.results(zk.evals, run_id)) == 12
    assert len(_marks(dists, "g", "panel")) >= 1
    text = " ".join(page.text)
    assert "ndcg@10" in text and "Failing questions" in text


def test_failing_questions_show_their_passages(zk: Zhiku, tmp_path: Path) -> None:
    zk.create_kb("tiny", embedder="hashing")
    zk.ingest_items("tiny", [SourceItem("cats.md", data=b"# Cats\n\nCats purr and sleep.\n")])
    sets.create_set(zk.evals, "t", [EvalQuestion("Why do cats purr?", ext_id="c",
                                           expected_sources={"dogs.md": 1})])
    record = runs.run_eval(zk.evals, KbTarget(zk, "tiny"), "t", runs.RunOptions(top_k=3))
    page, _ = _parse(write_run_report(zk.evals, zk.store, record.id, tmp_path))
    text = " ".join(page.text)
    assert "Failing questions (1)" in text and "Cats purr and sleep." in text
    assert "dogs.md" in text


def test_compare_report(zk: Zhiku, two_runs: tuple[int, int], tmp_path: Path) -> None:
    a, b = two_runs
    page, svgs = _parse(write_compare_report(zk.evals, zk.store, a, b, tmp_path))
    _files(tmp_path, f"compare-{a}-{b}", ("deltas", "metrics", "distributions", "latency"), svgs)
    deltas, metrics, dists, latency = svgs
    n = len(compare.compare_runs(zk.evals, a, b).deltas)
    assert _counts(deltas) == {"bars": n, "whiskers": n, "legend": 0}
    assert _counts(metrics) == {"bars": 2 * n, "whiskers": 2 * n, "legend": 2}
    assert _counts(dists)["legend"] == 2 and _counts(latency)["legend"] == 2
    assert sum(_bin_counts(latency)) == 24
    assert "Metric deltas" in " ".join(page.text)


def test_metric_bars_escape_names_and_labels() -> None:
    chart = charts.metric_bars([NASTY, "召回率@10", "mrr@10"], [
        ("A <i>", [0.5, 0.2, 0.9], [(0.4, 0.6), (0.1, 0.3), (0.8, 1.0)]),
        ("B", [0.6, float("nan"), 0.7], [(0.5, 0.7), (0.1, 0.3), (0.6, 0.8)]),
    ])
    assert "&lt;b&gt;&amp;&quot;x&quot;" in chart and "<b>" not in chart and "<i>" not in chart
    root = ET.fromstring(chart)
    assert _counts(root) == {"bars": 5, "whiskers": 5, "legend": 2}  # no bar for a NaN mean
    assert {NASTY, "召回率@10", "A <i>", "B"} <= set(_texts(root))
    assert [e.tag for e in root.iter() if not e.tag.startswith(NS)] == []
    colors = [r.get("fill") for r in _marks(root, "rect", "bar")]
    assert colors == [charts.COLORS[0]] * 3 + [charts.COLORS[1]] * 2


def test_delta_bars_colour_by_interval() -> None:
    root = ET.fromstring(charts.delta_bars(
        ["up", "down", NASTY, "control\x01char"], [0.2, -0.1, 0.01, 0.0],
        [(0.1, 0.3), (-0.2, -0.05), (-0.03, 0.05), (-0.01, 0.01)]))
    assert _counts(root) == {"bars": 4, "whiskers": 4, "legend": 0}
    assert [r.get("fill") for r in _marks(root, "rect", "bar")] == [
        charts.COLORS[2], charts.COLORS[3], charts.NEUTRAL, charts.NEUTRAL]
    assert NASTY in _texts(root) and "control\ufffdchar" in _texts(root)


def test_distributions_bin_scores_in_tenths() -> None:
    scores = [0.0, 0.05, 0.3, 0.95, 1.0, 1.0]
    root = ET.fromstring(charts.distributions({"f1": {"run 1": scores},
                                               NASTY: {"run 1": [0.5]}}))
    assert _counts(root) == {"bars": 4, "whiskers": 0, "legend": 0}
    # numpy's bin edges (the reports' binning): 0.3 falls in [0.2, 0.3), 1.0 in the last bin
    assert [b.findtext(f"{NS}title") for b in _marks(root, "rect", "bar")] == [
        "run 1 · 0.0–0.1: 2", "run 1 · 0.2–0.3: 1", "run 1 · 0.9–1.0: 3", "run 1 · 0.5–0.6: 1"]
    assert len(_marks(root, "g", "panel")) == 2 and NASTY in _texts(root)
    two = ET.fromstring(charts.distributions({"f1": {"A": scores, "B": [0.5, 0.55]}}))
    assert _counts(two) == {"bars": 4, "whiskers": 0, "legend": 2}  # 3 bins of A, 1 of B
    assert "No per-question scores." in _texts(ET.fromstring(charts.distributions({})))


def test_latency_histogram_has_thirty_bins_over_all_runs() -> None:
    root = ET.fromstring(charts.latency_histogram({"A": [float(i) for i in range(30)],
                                                   "B": [0.0, 29.0], "C": []}))
    assert _counts(root) == {"bars": 32, "whiskers": 0, "legend": 3}
    assert sum(_bin_counts(root)) == 32 and "C (no data)" in _texts(root)
    assert "questions" in _texts(root) and "latency (ms)" in _texts(root)
    assert "No answered questions." in _texts(
        ET.fromstring(charts.latency_histogram({"run 1": []})))


def test_is_failure() -> None:
    assert is_failure({"hit@10": 0.0}, 10)
    assert is_failure({"hit@10": 1.0, "refusal": 0.0}, 10)
    assert is_failure({"f1": 0.2}, 10)
    assert not is_failure({"hit@10": 1.0, "f1": 0.8, "refusal": 1.0}, 10)
