"""Eval runs: question every item of a set through a target, score it, store every result.

Results are written in batches inside short transactions, so a run of thousands of questions
costs little beyond the searches themselves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zhiku.core.errors import InvalidInput, NotFound, ZhikuError
from zhiku.evals import scoring, sets, withhold
from zhiku.evals.judge import Judge, Passage
from zhiku.evals.metrics.aggregate import percentile, summarize
from zhiku.evals.store import EvalStore
from zhiku.evals.targets import EvalTarget, TargetOutput
from zhiku.evals.types import EvalQuestion, QuestionResult, Retrieved, Usage, Verdict
from zhiku.permissions.context import current_reader
from zhiku.store.db import Connection, Row
from zhiku.store.reader import Reader

BATCH = 200
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class RunOptions:
    """How a run questions its target."""

    top_k: int = 10
    ks: Sequence[int] = scoring.DEFAULT_KS
    with_answer: bool = True
    tags: Sequence[str] = ()

    def cutoffs(self) -> list[int]:
        """The cut-offs not deeper than ``top_k`` (``top_k`` itself always included)."""
        return sorted({k for k in self.ks if k <= self.top_k} | {self.top_k})


@dataclass(slots=True)
class RunRecord:
    """A stored run and its summary (metric means, latency, tokens, cost)."""

    id: int
    set_name: str
    target: str
    config: dict[str, Any]
    status: str
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    created_at: str = ""
    finished_at: str | None = None


def _result(q: EvalQuestion, ord_: int, out: TargetOutput, ks: Sequence[int],
            latency_ms: float) -> QuestionResult:
    hits = out.hits
    answer = out.answer
    cited = [c.source for c in answer.citations] if answer is not None else []
    metrics = scoring.score(
        q, [h.source for h in hits], [h.chunk_id for h in hits], ks,
        (answer.answer, answer.refused, cited) if answer is not None else None,
    )
    return QuestionResult(
        ord=ord_, ext_id=q.ext_id, question=q.question, question_id=q.id,
        retrieved=[Retrieved(h.chunk_id, h.source, round(h.score, 6)) for h in hits],
        metrics=metrics, latency_ms=latency_ms,
        answer=answer.answer if answer is not None else None,
        refused=answer.refused if answer is not None else None,
        citations=cited, usage=out.usage,
    )


def judge_result(judge: Judge, q: EvalQuestion, out: TargetOutput, res: QuestionResult,
                 top_k: int) -> None:
    """Have ``judge`` score an answer that was given (refusals are not judged): the verdict goes
    to ``res.judge``, its 0..1 scores into ``res.metrics``. The judge sees the cited passages,
    else the retrieved ones."""
    answer = out.answer
    if answer is None or answer.refused or res.error is not None:
        return
    cited = list(dict.fromkeys((c.source, c.text) for c in answer.citations))
    shown = cited or [(h.source, h.text) for h in out.hits[:top_k]]
    res.judge = judge.judge(q.question, answer.answer, [Passage(s, t) for s, t in shown],
                            q.reference_answers)
    res.metrics.update(res.judge.metrics())


def _row(run_id: int, r: QuestionResult) -> tuple[Any, ...]:
    return (
        run_id, r.ord, r.question_id, r.ext_id, r.question,
        json.dumps([[x.chunk_id, x.source, x.score] for x in r.retrieved], ensure_ascii=False),
        r.answer, None if r.refused is None else int(r.refused),
        json.dumps(r.citations, ensure_ascii=False), json.dumps(r.metrics),
        round(r.latency_ms, 3), r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.cost,
        r.error, None if r.judge is None else json.dumps(r.judge.to_dict(), ensure_ascii=False),
    )


def _store(conn: Connection, run_id: int, batch: list[QuestionResult]) -> None:
    if not batch:
        return
    conn.executemany(
        "INSERT INTO eval_results (run_id, ord, question_id, ext_id, question, retrieved, answer, "
        "refused, citations, metrics, latency_ms, prompt_tokens, completion_tokens, cost, error, "
        "judge) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_row(run_id, r) for r in batch],
    )


def summary_of(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """Metric means, latency percentiles, token and cost totals, counts."""
    latencies = [r.latency_ms for r in results if r.error is None]
    out: dict[str, Any] = {
        "questions": len(results),
        "errors": sum(1 for r in results if r.error is not None),
        "metrics": summarize([r.metrics for r in results if r.error is None]),
        "latency_ms": {
            "p50": percentile(latencies, 50) if latencies else None,
            "p95": percentile(latencies, 95) if latencies else None,
            "mean": sum(latencies) / len(latencies) if latencies else None,
        },
    }
    for key in ("prompt_tokens", "completion_tokens", "cost"):
        values = [getattr(r.usage, key) for r in results if getattr(r.usage, key) is not None]
        out[key] = sum(values) if values else None
    verdicts = [r.judge for r in results if r.judge is not None]
    if verdicts:
        costs = [v.cost for v in verdicts if v.cost is not None]
        out["judge"] = {
            "model": verdicts[0].model,
            "judged": sum(1 for v in verdicts if v.error is None),
            "errors": sum(1 for v in verdicts if v.error is not None),
            "input_tokens": sum(v.input_tokens for v in verdicts),
            "output_tokens": sum(v.output_tokens for v in verdicts),
            "cost": sum(costs) if costs else None,
        }
    return out


@dataclass(frozen=True, slots=True)
class NewRun:
    """A checked run, ready to be stored: its set, target and configuration."""

    set_id: int
    set_name: str
    target: str
    config: dict[str, Any]


def new_run(store: EvalStore, target: str, set_name: str, options: RunOptions | None = None,
            judge: str | None = None) -> NewRun:
    """Check a run of ``set_name`` against the target named ``target`` (an empty selection,
    a missing set, bad options raise here, before anything is stored)."""
    opts = options or RunOptions()
    if opts.top_k < 1:
        raise InvalidInput("top_k must be at least 1")
    if judge is not None and not opts.with_answer:
        raise InvalidInput("a judge scores answers: it needs a run with answers")
    eval_set = sets.get_set(store, set_name)
    sets.questions(store, set_name, opts.tags)
    config: dict[str, Any] = {"top_k": opts.top_k, "ks": opts.cutoffs(),
                              "with_answer": opts.with_answer, "tags": list(opts.tags)}
    if judge is not None:
        config["judge"] = judge
    return NewRun(eval_set.id, set_name, target, config)


def create_run(conn: Connection, workspace_id: int, run: NewRun) -> int:
    """Store ``run`` as ``running`` inside the caller's write transaction; returns its id."""
    return int(conn.execute(
        "INSERT INTO eval_runs (workspace_id, set_id, set_name, target, config) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        (workspace_id, run.set_id, run.set_name, run.target, json.dumps(run.config)),
    ).fetchone()[0])


def options_of(run: RunRecord) -> RunOptions:
    """The options a stored run was created with."""
    c = run.config
    return RunOptions(top_k=int(c["top_k"]), ks=list(c["ks"]), with_answer=bool(c["with_answer"]),
                      tags=list(c.get("tags", [])))


def execute(
    store: EvalStore,
    run_id: int,
    target: EvalTarget,
    progress: Progress | None = None,
    judge: Judge | None = None,
) -> RunRecord:
    """Question every item of a stored run's set through ``target``; store and return the run.

    The run reads as the current reader (``zhiku.permissions.context``): the questions withheld
    from it (``zhiku.evals.withhold``) are left out, and counted in the summary's
    ``withheld_questions``. Executing a run again starts it over (its earlier results are
    dropped). With a ``judge``, every answer given (not refused) is also scored for
    faithfulness and relevance; the judge's time is not counted in the question's latency.
    Any error marks the run failed and is raised again.
    """
    db = store.db
    try:
        run = get_run(store, run_id)
        opts = options_of(run)
        ks = opts.cutoffs()
        items = sets.questions(store, run.set_name, opts.tags)
        hidden = _hidden(store, items, current_reader())
        items = [q for q in items if q.id not in hidden]
        with db.write() as conn:
            conn.execute("DELETE FROM eval_results WHERE run_id = ?", (run_id,))
            conn.execute("UPDATE eval_runs SET status = 'running', error = NULL WHERE id = ?",
                         (run_id,))
        results: list[QuestionResult] = []
        pending: list[QuestionResult] = []
        for n, q in enumerate(items):
            started = time.perf_counter()
            try:
                out = target.run(q.question, opts.top_k, opts.with_answer)
            except ZhikuError as exc:
                res = QuestionResult(n, q.ext_id, q.question, [], {}, 0.0, q.id, error=exc.message)
            else:
                res = _result(q, n, out, ks, (time.perf_counter() - started) * 1000)
                if judge is not None:
                    judge_result(judge, q, out, res, opts.top_k)
            results.append(res)
            pending.append(res)
            if len(pending) >= BATCH:
                with db.write() as conn:
                    _store(conn, run_id, pending)
                pending = []
            if progress is not None:
                progress(n + 1, len(items))
        summary = summary_of(results)
        if hidden:
            summary["withheld_questions"] = len(hidden)
        with db.write() as conn:
            _store(conn, run_id, pending)
            conn.execute(
                f"UPDATE eval_runs SET status = 'done', summary = ?, finished_at = {db.now} "
                "WHERE id = ?",
                (json.dumps(summary), run_id),
            )
    except BaseException as exc:
        fail_run(store, run_id, f"{type(exc).__name__}: {exc}")
        raise
    return get_run(store, run_id)


def _hidden(store: EvalStore, items: Sequence[EvalQuestion], reader: Reader) -> set[int]:
    return withhold.hidden_questions(store.passages, store.workspace_id, items, reader)


def left_out(store: EvalStore, set_name: str, tags: Sequence[str] = (),
             reader: Reader | None = None) -> int:
    """How many questions of ``set_name`` (with every tag of ``tags``) a run as ``reader``
    (by default the current one) would leave out."""
    items = sets.questions(store, set_name, tags)
    return len(_hidden(store, items, current_reader() if reader is None else reader))


def withheld_count(run: RunRecord) -> int:
    """How many questions of its set ``run`` left out (its starter could not see them)."""
    return int(run.summary.get("withheld_questions", 0))


def fail_run(store: EvalStore, run_id: int, error: str) -> None:
    """Mark a run that is still running as failed with ``error``."""
    with store.db.write() as conn:
        conn.execute("UPDATE eval_runs SET status = 'failed', error = ? "
                     "WHERE id = ? AND status = 'running'", (error, run_id))


def run_eval(
    store: EvalStore,
    target: EvalTarget,
    set_name: str,
    options: RunOptions | None = None,
    progress: Progress | None = None,
    judge: Judge | None = None,
) -> RunRecord:
    """Store a run of ``set_name`` against ``target`` and execute it here (see ``execute``)."""
    planned = new_run(store, target.name, set_name, options, None if judge is None else judge.name)
    with store.db.write() as conn:
        run_id = create_run(conn, store.workspace_id, planned)
    return execute(store, run_id, target, progress, judge)


def _run(row: Row) -> RunRecord:
    return RunRecord(
        id=row["id"], set_name=row["set_name"], target=row["target"],
        config=json.loads(row["config"]), status=row["status"],
        summary=json.loads(row["summary"]), error=row["error"],
        created_at=row["created_at"], finished_at=row["finished_at"],
    )


def get_run(store: EvalStore, run_id: int) -> RunRecord:
    """A run of this workspace by id."""
    row = store.db.conn.execute(
        "SELECT * FROM eval_runs WHERE id = ? AND workspace_id = ?", (run_id, store.workspace_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"eval run {run_id} does not exist")
    return _run(row)


def list_runs(store: EvalStore, set_name: str | None = None) -> list[RunRecord]:
    """Runs of the workspace, newest first, optionally of one set."""
    sql = "SELECT * FROM eval_runs WHERE workspace_id = ?"
    args: list[Any] = [store.workspace_id]
    if set_name:
        sql += " AND set_name = ?"
        args.append(set_name)
    return [_run(r) for r in store.db.conn.execute(sql + " ORDER BY id DESC", args)]


def results(store: EvalStore, run_id: int, reader: Reader | None = None) -> list[QuestionResult]:
    """Every per-question result of a run, in question order, as ``reader`` (by default the
    current one: ``zhiku.permissions.context``) may see them: passages of documents it may not
    read are withheld, with what could quote them, and so is all but the metrics and the
    passages' ranks of a question withheld from it (``zhiku.evals.withhold``)."""
    run = get_run(store, run_id)
    rows = store.db.conn.execute(
        "SELECT * FROM eval_results WHERE run_id = ? ORDER BY ord", (run_id,)
    )
    stored = [
        QuestionResult(
            ord=r["ord"], ext_id=r["ext_id"], question=r["question"],
            question_id=r["question_id"],
            retrieved=[Retrieved(int(c), str(s), float(v))
                       for c, s, v in json.loads(r["retrieved"])],
            metrics=json.loads(r["metrics"]), latency_ms=r["latency_ms"], answer=r["answer"],
            refused=None if r["refused"] is None else bool(r["refused"]),
            citations=json.loads(r["citations"]),
            usage=Usage(r["prompt_tokens"], r["completion_tokens"], r["cost"]), error=r["error"],
            judge=None if r["judge"] is None else Verdict.from_dict(json.loads(r["judge"])),
        )
        for r in rows
    ]
    who = current_reader() if reader is None else reader
    seen = withhold.sight(store.passages, store.workspace_id,
                          (x.chunk_id for r in stored for x in r.retrieved), who)
    hidden: set[int] = set() if seen.everything else _hidden_of_set(store, run.set_name, who)
    return [withhold.withhold_all(r) if r.question_id in hidden else withhold.withhold(r, seen)
            for r in stored]


def _hidden_of_set(store: EvalStore, set_name: str, reader: Reader) -> set[int]:
    """The ids of the questions of ``set_name`` withheld from ``reader`` (none when the set
    was deleted; a replaced set's questions have new ids, so its old results match none)."""
    try:
        questions = sets.questions(store, set_name)
    except NotFound:
        return set()
    return _hidden(store, questions, reader)

