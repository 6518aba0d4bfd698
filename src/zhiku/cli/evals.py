"""``zhiku eval``: import eval sets, run them, compare runs, write reports, run BEIR datasets."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer

from zhiku.cli import evalsets
from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.cli.releases import add_eval_commands
from zhiku.core.errors import InvalidInput
from zhiku.evals import compare, gate, importers, runs, sets
from zhiku.evals.beir import run_beir
from zhiku.evals.generate import generate as generate_questions
from zhiku.evals.judge import judge_for
from zhiku.evals.llm_generator import llm_generator
from zhiku.evals.report import write_compare_report, write_run_report
from zhiku.retrieval.search import Mode

app = typer.Typer(help="Evaluate retrieval and answers; compare runs; gate CI.",
                  no_args_is_help=True)
add_eval_commands(app)
app.add_typer(evalsets.app, name="sets")

MODES = ("hybrid", "keyword", "vector")
FAIL_UNDER = typer.Option(None, "--fail-under", help="METRIC=VALUE: exit 1 when below (repeat).")


def _mode(value: str) -> Mode:
    if value not in MODES:
        raise InvalidInput("mode is hybrid, keyword or vector")
    return value  # type: ignore[return-value]


def _print_summary(run: runs.RunRecord) -> None:
    say(f"run {run.id}: {run.target} on '{run.set_name}' — "
                  f"{run.summary.get('questions', 0)} questions, "
                  f"{run.summary.get('errors', 0)} errors")
    for name, value in run.summary.get("metrics", {}).items():
        say(f"  {name:<20} {value:.4f}")
    lat = run.summary.get("latency_ms", {})
    if lat.get("p50") is not None:
        say(f"  latency p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms")
    judged = run.summary.get("judge")
    if judged:
        cost = "" if judged.get("cost") is None else f", cost {judged['cost']:.6f}"
        say(f"  judge {judged['model']}: {judged['judged']} judged, "
                      f"{judged['errors']} without verdict, "
                      f"{judged['input_tokens'] + judged['output_tokens']} tokens{cost}")


def _gate(run: runs.RunRecord, fail_under: list[str] | None) -> None:
    failed = gate.failures(run.summary.get("metrics", {}), fail_under or [])
    for message in failed:
        say(("fail:", "red"), " ", message, err=True)
    if failed:
        raise typer.Exit(1)


@app.command("import")
@handle_errors
def import_(
    path: Path = typer.Argument(..., help="JSONL, CSV/TSV, SQuAD JSON or a BEIR folder."),
    name: str = typer.Option(None, "--name", help="Set name (default: the file's stem)."),
    fmt: str = typer.Option(None, "--format", help="jsonl, csv, beir or squad (else detected)."),
    split: str = typer.Option("test", "--split", help="BEIR qrels split."),
    replace: bool = typer.Option(False, "--replace", help="Replace a set of the same name."),
) -> None:
    """Import an eval set."""
    chosen = fmt or importers.detect_format(path)
    questions = (importers.beir.load(path, split) if chosen == "beir"
                 else importers.load(path, chosen))
    set_name = name or (path.resolve().name if path.is_dir() else path.stem)
    with open_zhiku() as zk:
        eval_set = sets.create_set(zk.evals, set_name, questions, origin=str(path.resolve()),
                                   replace=replace)
    say(f"imported {eval_set.size} questions into '{eval_set.name}'")


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """Eval sets and runs."""
    with open_zhiku() as zk:
        all_sets = sets.list_sets(zk.evals)
        all_runs = runs.list_runs(zk.evals)
    if as_json:
        print_json({"sets": [asdict(s) for s in all_sets], "runs": [asdict(r) for r in all_runs]})
        return
    say(("sets", "bold"))
    for s in all_sets:
        say(f"  {s.name}: {s.size} questions")
    say(("runs", "bold"))
    for r in all_runs:
        metrics = r.summary.get("metrics", {})
        key = compare.key_metric(list(metrics))
        shown = f"{key} {metrics[key]:.4f}" if key in metrics else ""
        say(f"  {r.id}: {r.target} on '{r.set_name}' {r.status} {shown}")


@app.command("run")
@handle_errors
def run(
    eval_set: str = typer.Option(..., "--set", help="Eval set name."),
    kb: str = typer.Option(None, "--kb", help="Evaluate a knowledge base."),
    app_name: str = typer.Option(None, "--app", help="Evaluate an assistant."),
    top_k: int = typer.Option(10, "--top-k", "-k", min=1, max=1000),
    mode: str = typer.Option("hybrid", help="Search mode for a knowledge base."),
    answers: bool = typer.Option(True, "--answers/--no-answers", help="Also answer and score."),
    tag: list[str] = typer.Option(None, "--tag", help="Only questions with this tag (repeat)."),
    report: Path = typer.Option(None, "--report", help="Write the HTML report into this folder."),
    judge: str = typer.Option(None, "--judge",
                              help="PROVIDER/MODEL that scores faithfulness and relevance."),
    fail_under: list[str] = FAIL_UNDER,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run an eval set against a knowledge base (--kb) or an assistant (--app)."""
    if (kb is None) == (app_name is None):
        raise InvalidInput("give exactly one of --kb or --app")
    if judge and not answers:
        raise InvalidInput("--judge scores answers: it cannot be used with --no-answers")
    for spec in fail_under or []:
        gate.parse_threshold(spec)
    with open_zhiku() as zk:
        target = zk.eval_target("kb" if kb else "app", kb or app_name, _mode(mode))
        options = runs.RunOptions(top_k=top_k, with_answer=answers, tags=tag or ())
        record = runs.run_eval(zk.evals, target, eval_set, options,
                               judge=judge_for(zk.llm, judge) if judge else None)
        path = write_run_report(zk.evals, zk.store, record.id, report) if report else None
    if as_json:
        print_json({**asdict(record), "report": str(path) if path else None})
    else:
        _print_summary(record)
        if path:
            say(f"report: {path}")
    _gate(record, fail_under)


def _comparison_json(cmp: compare.Comparison) -> dict[str, Any]:
    data = asdict(cmp)
    for d, src in zip(data["deltas"], cmp.deltas, strict=True):
        d["significant"] = src.significant
    return data


@app.command("compare")
@handle_errors
def compare_(
    run_a: int = typer.Argument(...),
    run_b: int = typer.Argument(...),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    resamples: int = typer.Option(2000, min=100, help="Bootstrap resamples."),
    metric: str = typer.Option(None, help="Metric that decides which questions changed."),
    report: Path = typer.Option(None, "--report", help="Write the HTML report into this folder."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Metric deltas (B - A) with paired-bootstrap intervals, and the questions that changed."""
    with open_zhiku() as zk:
        cmp = compare.compare_runs(zk.evals, run_a, run_b, seed=seed, resamples=resamples,
                                   metric=metric)
        path = (write_compare_report(zk.evals, zk.store, run_a, run_b, report, seed=seed)
                if report else None)
    if as_json:
        print_json({**_comparison_json(cmp), "report": str(path) if path else None})
        return
    say(f"A = run {run_a}, B = run {run_b}")
    for d in cmp.deltas:
        mark = "*" if d.significant else " "
        say(f" {mark}{d.metric:<20} {d.a:.4f} → {d.b:.4f}  Δ {d.delta:+.4f} "
                      f"[{d.low:+.4f}, {d.high:+.4f}]  n={d.n}")
    say(f"{cmp.key_metric}: {len(cmp.improved)} improved, "
                  f"{len(cmp.regressed)} regressed")
    for c in cmp.regressed[:10]:
        say(f"  - {c.ext_id}: {c.a:.3f} → {c.b:.3f}  {c.question[:80]}")
    if path:
        say(f"report: {path}")


@app.command("report")
@handle_errors
def report_(
    run_a: int = typer.Argument(..., help="A run (or run A of a comparison)."),
    run_b: int = typer.Argument(None, help="Run B: write a comparison report."),
    out: Path = typer.Option(Path("."), "--out", help="Folder for the HTML and SVG files."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
) -> None:
    """Write the HTML report (with SVG charts) of a run or of a comparison."""
    with open_zhiku() as zk:
        if run_b is None:
            path = write_run_report(zk.evals, zk.store, run_a, out, seed=seed)
        else:
            path = write_compare_report(zk.evals, zk.store, run_a, run_b, out, seed=seed)
    say(str(path))


@app.command("beir")
@handle_errors
def beir(
    path: Path = typer.Argument(..., help="BEIR folder: corpus.jsonl[.gz], queries.jsonl, qrels/"),
    split: str = typer.Option("test", "--split"),
    embedder: str = typer.Option(None, "--embedder", help="Scratch KB embedder."),
    mode: list[str] = typer.Option(None, "--mode", help="hybrid, keyword, vector (repeat)."),
    top_k: int = typer.Option(10, "--top-k", "-k", min=1, max=1000),
    keep: bool = typer.Option(False, "--keep", help="Keep the scratch knowledge base."),
    fail_under: list[str] = FAIL_UNDER,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ingest a BEIR dataset into a scratch knowledge base, search every query, score."""
    modes = [_mode(m) for m in (mode or ["hybrid"])]
    with open_zhiku() as zk:
        result = run_beir(zk, zk.evals, path, split=split, embedder=embedder, modes=modes,
                          top_k=top_k, keep=keep)
    if as_json:
        print_json(asdict(result))
    else:
        say(f"{result.dataset} ({result.split}): {result.documents} documents "
                      f"ingested in {result.ingest_seconds:.1f} s, {result.failed} failed")
        for record in result.runs.values():
            _print_summary(record)
    for record in result.runs.values():
        _gate(record, fail_under)


@app.command("generate")
@handle_errors
def generate(
    name: str = typer.Argument(..., help="Name of the eval set to create."),
    kb: str = typer.Option(..., "--kb", help="Knowledge base whose chunks are questioned."),
    model: str = typer.Option(..., "--model", help="provider/model that writes the questions."),
    chunks: int = typer.Option(50, "--chunks", min=1, help="Chunks sampled."),
    per_chunk: int = typer.Option(1, "--per-chunk", min=1, max=10),
    seed: int = typer.Option(0, "--seed"),
    replace: bool = typer.Option(False, "--replace"),
) -> None:
    """Synthetic questions from a knowledge base, kept when retrieval can find their chunk."""
    with open_zhiku() as zk:
        questions = generate_questions(zk, zk.evals, kb, llm_generator(zk.llm, model),
                                       chunks=chunks, per_chunk=per_chunk, seed=seed)
        if not questions:
            raise InvalidInput("no generated question passed de-duplication and the filter")
        eval_set = sets.create_set(zk.evals, name, questions, origin=f"generated by {model}",
                                   replace=replace)
    say(f"created '{eval_set.name}' with {eval_set.size} questions")
