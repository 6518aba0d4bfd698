"""Building the run and comparison reports from stored runs; writes HTML plus the SVG files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Protocol

from zhiku.evals import compare, runs, why
from zhiku.evals.metrics.aggregate import bootstrap_ci
from zhiku.evals.report import charts
from zhiku.evals.report.html import Raw, figure, page, passages, table
from zhiku.evals.store import EvalStore
from zhiku.evals.types import QuestionResult, Retrieved
from zhiku.store.records import Chunk


class ChunkSource(Protocol):
    """Reads chunks by id (the document store)."""

    def get_chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """The chunks that still exist, by id."""
        ...


MAX_FAILURES = 50
PASSAGES_SHOWN = 3
ANSWER_METRICS = ("f1", "em", "citation_precision", "citation_recall", "faithfulness",
                  "relevance")


def is_failure(metrics: dict[str, float], top_k: int) -> bool:
    """Any reason to fail (see ``zhiku.evals.why``): nothing relevant retrieved, a wrong
    refusal or answer, an answer matching no reference, or one the judge found unfaithful."""
    return bool(why.reasons(metrics, top_k))


def _metric_names(results: Sequence[QuestionResult]) -> list[str]:
    return list(dict.fromkeys(n for r in results for n in r.metrics))


def _values(results: Sequence[QuestionResult], name: str) -> list[float]:
    return [r.metrics[name] for r in results if name in r.metrics]


def _distributed(names: Sequence[str]) -> list[str]:
    """Ranking metrics at the deepest cut-off, and the graded answer metrics."""
    cutoffs = [int(n.split("@")[1]) for n in names if "@" in n]
    deepest = f"@{max(cutoffs)}" if cutoffs else ""
    return [n for n in names if (deepest and n.endswith(deepest) and not n.startswith("hit@"))
            or n in ANSWER_METRICS]


def _expected(store: EvalStore, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    rows = store.db.conn.execute(
        "SELECT id, expected_sources, reference_answers FROM eval_questions "
        f"WHERE id IN ({','.join('?' * len(ids))})", list(ids))
    out = {}
    for r in rows:
        sources = ", ".join(json.loads(r[1])) or "—"
        answers = " | ".join(json.loads(r[2])) or "—"
        out[r[0]] = (sources, answers)
    return out


def _passage_text(found: dict[int, Chunk], x: Retrieved) -> str:
    if x.withheld:
        return "(withheld: a document you may not read)"
    return found[x.chunk_id].text if x.chunk_id in found else "(chunk deleted)"


def _passages_html(chunks: ChunkSource, r: QuestionResult) -> str:
    shown = r.retrieved[:PASSAGES_SHOWN]
    found = chunks.get_chunks([x.chunk_id for x in shown if not x.withheld])
    return passages((x.source, _passage_text(found, x), x.score) for x in shown)


def _write(out_dir: Path, stem: str, svgs: dict[str, str], body: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, chart in svgs.items():
        (out_dir / f"{stem}-{name}.svg").write_text(chart, encoding="utf-8")
    path = out_dir / f"{stem}.html"
    path.write_text(body, encoding="utf-8")
    return path


def _verdict_html(r: QuestionResult) -> str:
    v = r.judge
    if v is None:
        return ""
    if v.error is not None:
        return f"<p><b>Judge</b> ({escape(v.model)}): no verdict — {escape(v.error)}</p>"
    return (f"<p><b>Judge</b> ({escape(v.model)}): faithfulness {v.faithfulness:g}/5, "
            f"relevance {v.relevance:g}/5 — {escape(v.reasons)}</p>")


def _judge_section(run: runs.RunRecord, results: Sequence[QuestionResult]) -> list[str]:
    info = run.summary.get("judge")
    if not info:
        return []
    summary = table(["judge", "judged", "errors", "faithfulness (0-1)", "relevance (0-1)", "tokens",
                     "cost"],
                    [[info["model"], info["judged"], info["errors"],
                      _mean(_values(results, "faithfulness")), _mean(_values(results, "relevance")),
                      info["input_tokens"] + info["output_tokens"],
                      "—" if info.get("cost") is None else f"{info['cost']:.6f}"]])
    judged = sorted((r for r in results if r.judge is not None),
                    key=lambda r: (r.judge.faithfulness or 0, r.judge.relevance or 0)
                    if r.judge is not None else (0, 0))
    rows = [[r.ext_id, r.question, _grade(r.judge.faithfulness), _grade(r.judge.relevance),
             r.judge.reasons or r.judge.error or ""]
            for r in judged[:MAX_FAILURES] if r.judge is not None]
    return ["<h2>Judge</h2>", summary,
            f"<p>Lowest-scored answers first ({min(len(judged), MAX_FAILURES)} of "
            f"{len(judged)}).</p>",
            table(["id", "question", "faithfulness (1-5)", "relevance (1-5)", "reasons"], rows)]


def _grade(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _mean(values: Sequence[float]) -> float | str:
    return sum(values) / len(values) if values else "—"


def _failures(store: EvalStore, chunks: ChunkSource, results: Sequence[QuestionResult],
              top_k: int) -> str:
    failing = [r for r in results if r.error is None and is_failure(r.metrics, top_k)]
    expected = _expected(store, [r.question_id for r in failing[:MAX_FAILURES]
                              if r.question_id is not None])
    blocks = [f"<h2>Failing questions ({len(failing)})</h2>"]
    for r in failing[:MAX_FAILURES]:
        sources, answers = expected.get(r.question_id or -1, ("—", "—"))
        scores = ", ".join(f"{k} {v:.3f}" for k, v in r.metrics.items()
                           if k.startswith(("hit@", "ndcg@", "f1", "refusal", "faithfulness",
                                            "relevance")))
        answer = "" if r.answer is None else (
            f"<p><b>Answer</b>{' (refused)' if r.refused else ''}: {escape(r.answer)}</p>")
        answer += _verdict_html(r)
        blocks.append(
            f"<details><summary>{escape(r.ext_id)}: {escape(r.question)}</summary>"
            f"<p><b>Expected</b>: {escape(sources)}; <b>reference</b>: {escape(answers)}</p>"
            f"<p><small>{escape(scores)}</small></p>{answer}{_passages_html(chunks, r)}</details>"
        )
    return "\n".join(blocks)


def write_run_report(store: EvalStore, chunks: ChunkSource, run_id: int, out_dir: Path, *,
                     seed: int = 0) -> Path:
    """``run-<id>.html`` and its SVG charts in ``out_dir``; returns the HTML path."""
    run = runs.get_run(store, run_id)
    results = runs.results(store, run_id)
    names = _metric_names(results)
    means = [sum(v) / len(v) for v in (_values(results, n) for n in names)]
    cis = [bootstrap_ci(_values(results, n), seed=seed) for n in names]
    latencies = [r.latency_ms for r in results if r.error is None]
    svgs = {
        "metrics": charts.metric_bars(names, [(f"run {run_id}", means, cis)]),
        "distributions": charts.distributions(
            {n: {f"run {run_id}": _values(results, n)} for n in _distributed(names)}),
        "latency": charts.latency_histogram({f"run {run_id}": latencies}),
    }
    lat = run.summary.get("latency_ms", {})
    info = table(["run", "set", "target", "questions", "errors", "created", "config"], [[
        run_id, run.set_name, run.target, len(results), run.summary.get("errors", 0),
        run.created_at, json.dumps(run.config)]])
    summary = table(["metric", "mean", "95% low", "95% high", "n"], [
        [n, m, lo, hi, len(_values(results, n))]
        for n, m, (lo, hi) in zip(names, means, cis, strict=True)])
    latency = table(["latency p50 (ms)", "p95 (ms)", "mean (ms)", "tokens", "cost"], [[
        lat.get("p50") or 0.0, lat.get("p95") or 0.0, lat.get("mean") or 0.0,
        (run.summary.get("prompt_tokens") or 0) + (run.summary.get("completion_tokens") or 0),
        str(run.summary.get("cost") if run.summary.get("cost") is not None else "—")]])
    sections = [
        info, "<h2>Metrics</h2>", summary, figure(svgs["metrics"]),
        "<h2>Score distributions</h2>", figure(svgs["distributions"]),
        "<h2>Latency</h2>", latency, figure(svgs["latency"]),
        *_judge_section(run, results),
        _failures(store, chunks, results, int(run.config.get("top_k", 10))),
    ]
    return _write(out_dir, f"run-{run_id}", svgs, page(f"Eval run {run_id}", sections))


def _changed_rows(chunks: ChunkSource, changed: Sequence[compare.ChangedQuestion],
                  res_b: dict[str, QuestionResult]) -> list[list[object]]:
    return [[c.ext_id, c.question, c.a, c.b, c.delta,
             Raw(_passages_html(chunks, res_b[c.ext_id]))] for c in changed[:MAX_FAILURES]]


def write_compare_report(
    store: EvalStore, chunks: ChunkSource, run_a: int, run_b: int, out_dir: Path, *, seed: int = 0
) -> Path:
    """``compare-<a>-<b>.html`` with its SVG charts; returns the HTML path."""
    a, b = runs.results(store, run_a), runs.results(store, run_b)
    cmp = compare.compare_results(run_a, a, run_b, b, seed=seed)
    names = [d.metric for d in cmp.deltas]
    label_a, label_b = f"A: run {run_a}", f"B: run {run_b}"
    svgs = {
        "metrics": charts.metric_bars(names, [
            (label_a, [d.a for d in cmp.deltas], [bootstrap_ci(_values(a, n), seed=seed)
                                                   for n in names]),
            (label_b, [d.b for d in cmp.deltas], [bootstrap_ci(_values(b, n), seed=seed)
                                                   for n in names]),
        ]),
        "deltas": charts.delta_bars(names, [d.delta for d in cmp.deltas],
                                    [(d.low, d.high) for d in cmp.deltas]),
        "distributions": charts.distributions(
            {n: {label_a: _values(a, n), label_b: _values(b, n)} for n in _distributed(names)}),
        "latency": charts.latency_histogram({
            label_a: [r.latency_ms for r in a if r.error is None],
            label_b: [r.latency_ms for r in b if r.error is None]}),
    }
    deltas = table(["metric", "n", "A", "B", "B - A", "95% low", "95% high", "significant"], [
        [d.metric, d.n, d.a, d.b, d.delta, d.low, d.high, "yes" if d.significant else "no"]
        for d in cmp.deltas])
    res_b = {r.ext_id: r for r in b}
    header = ["id", "question", f"A {cmp.key_metric}", f"B {cmp.key_metric}", "delta",
              "B's passages"]
    sections = [
        f"<p>A = run {run_a} ({escape(runs.get_run(store, run_a).target)}), B = run {run_b} "
        f"({escape(runs.get_run(store, run_b).target)}); only in A: {cmp.only_in_a}, "
        f"only in B: {cmp.only_in_b}.</p>",
        "<h2>Metric deltas</h2>", deltas, figure(svgs["deltas"]),
        figure(svgs["metrics"]),
        "<h2>Score distributions</h2>", figure(svgs["distributions"]),
        "<h2>Latency</h2>", figure(svgs["latency"]),
        f"<h2>Regressed questions ({len(cmp.regressed)})</h2>",
        table(header, _changed_rows(chunks, cmp.regressed, res_b)),
        f"<h2>Improved questions ({len(cmp.improved)})</h2>",
        table(header, _changed_rows(chunks, cmp.improved, res_b)),
    ]
    title = f"Eval comparison: run {run_a} vs run {run_b}"
    return _write(out_dir, f"compare-{run_a}-{run_b}", svgs, page(title, sections))
