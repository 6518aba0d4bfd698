"""HTML reports: the page parses, every chart is an embedded PNG, and the PNG files exist."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

import pytest

from zhiku.evals import runs, sets
from zhiku.evals.beir import run_beir
from zhiku.evals.report import write_compare_report, write_run_report
from zhiku.evals.report.build import is_failure
from zhiku.evals.targets import KbTarget
from zhiku.evals.types import EvalQuestion
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert page.tags[:2] == ["html", "head"] and "body" in page.tags
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    return page


@pytest.fixture
def two_runs(zk: Zhiku, beir_slice: Path) -> tuple[int, int]:
    result = run_beir(zk, beir_slice, embedder="hashing", modes=("hybrid", "keyword"), keep=True)
    return result.runs["hybrid"].id, result.runs["keyword"].id


def test_run_report(zk: Zhiku, two_runs: tuple[int, int], tmp_path: Path) -> None:
    run_id = two_runs[0]
    path = write_run_report(zk, run_id, tmp_path / "out")
    assert path == tmp_path / "out" / f"run-{run_id}.html"
    page = _parse(path)
    assert len(page.images) == 3
    for name in ("metrics", "distributions", "latency"):
        png = tmp_path / "out" / f"run-{run_id}-{name}.png"
        assert png.stat().st_size > 1000 and png.read_bytes().startswith(PNG_MAGIC)
    text = " ".join(page.text)
    assert "ndcg@10" in text and "Failing questions" in text


def test_failing_questions_show_their_passages(zk: Zhiku, tmp_path: Path) -> None:
    zk.create_kb("tiny", embedder="hashing")
    zk.ingest_items("tiny", [SourceItem("cats.md", data=b"# Cats\n\nCats purr and sleep.\n")])
    sets.create_set(zk, "t", [EvalQuestion("Why do cats purr?", ext_id="c",
                                           expected_sources={"dogs.md": 1})])
    record = runs.run_eval(zk, KbTarget(zk, "tiny"), "t", runs.RunOptions(top_k=3))
    page = _parse(write_run_report(zk, record.id, tmp_path))
    text = " ".join(page.text)
    assert "Failing questions (1)" in text and "Cats purr and sleep." in text
    assert "dogs.md" in text


def test_compare_report(zk: Zhiku, two_runs: tuple[int, int], tmp_path: Path) -> None:
    a, b = two_runs
    path = write_compare_report(zk, a, b, tmp_path)
    page = _parse(path)
    assert len(page.images) == 4
    for name in ("metrics", "deltas", "distributions", "latency"):
        assert (tmp_path / f"compare-{a}-{b}-{name}.png").stat().st_size > 1000
    assert "Metric deltas" in " ".join(page.text)


def test_is_failure() -> None:
    assert is_failure({"hit@10": 0.0}, 10)
    assert is_failure({"hit@10": 1.0, "refusal": 0.0}, 10)
    assert is_failure({"f1": 0.2}, 10)
    assert not is_failure({"hit@10": 1.0, "f1": 0.8, "refusal": 1.0}, 10)
