"""Evaluation over HTTP: eval sets, runs with their per-question results, and A/B comparisons
with paired-bootstrap intervals — the same sets and runs as ``zhiku eval`` (thin over
``zhiku.evals``).

Reading needs read access, creating a set or starting a run write access; eval sets and runs
span the workspace, so a key limited to some knowledge bases or assistants is refused (403).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level, Principal
from zhiku.api.access import visible_assistant
from zhiku.api.deps import Caller, Service, State
from zhiku.api.mirror import Mirror
from zhiku.api.schemas import ERRORS, MAX_ID, Id, Request
from zhiku.core.errors import Forbidden, InvalidInput, NotFound
from zhiku.core.jsonbounds import BoundedJson
from zhiku.evals import compare, runs, sets
from zhiku.evals import view as evals_view
from zhiku.evals.importers.jsonl import parse as parse_question
from zhiku.evals.types import EvalQuestion, EvalSet
from zhiku.permissions.context import current_reader

router = APIRouter(tags=["evaluation"], responses=ERRORS)
SetName = Annotated[str, Path(min_length=1, max_length=128, description="An eval set name.")]


class EvalSetOut(Mirror, source=EvalSet):
    """An eval set and its number of questions."""


class EvalSetIn(Request):
    """A new eval set; each question is an object as in the JSONL import format (``question``,
    ``id``, ``expected_sources``, ``expected_chunks``, ``reference_answers``, ``answerable``,
    ``tags``, ``metadata``)."""

    name: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=2000)
    questions: list[BoundedJson] = Field(min_length=1, max_length=20_000)
    replace: bool = False


class QuestionOut(BaseModel):
    """One question of a set. ``withheld``: it points at a document the caller may not read
    (an expected chunk's, one an expected source names, or one the corrected answer it was
    made from cited), so only its id, tags and ``answerable`` are shown."""

    id: str
    question: str
    expected_sources: dict[str, int]
    expected_chunks: dict[str, int]
    reference_answers: list[str]
    answerable: bool
    tags: list[str]
    withheld: bool = False


class RunOut(BaseModel):
    """A run: its set and target (``kb:NAME`` or ``app:SLUG``), options, status (running, done,
    failed) and summary (metric means, latency percentiles, tokens, cost).
    ``withheld_questions``: how many questions of the set the run left out, because they point
    at documents whoever started it may not read."""

    id: int
    set: str
    target: str
    config: dict[str, Any]
    status: str
    summary: dict[str, Any]
    key_metric: str
    error: str | None
    created_at: str
    finished_at: str | None
    withheld_questions: int = 0


class RunDetailOut(RunOut):
    """A run with, per metric, its mean, 95% bootstrap interval and histogram; the latency
    histogram; and how many questions failed."""

    distributions: dict[str, Any]


class ResultOut(BaseModel):
    """One question's result: metrics, answer, retrieved chunks, what was expected,
    ``failed`` and its ``reasons``, root cause first: ``error``, ``retrieval_miss``,
    ``false_refusal``, ``answered_unanswerable``, ``answer_mismatch``, ``unfaithful`` (see
    ``zhiku.evals.why``). ``withheld``: the caller may not read the document of some retrieved
    chunk (marked ``withheld``, its source empty; id, rank and score kept), so the answer,
    the citations of such chunks and the judge's reasons are left out; when the question
    itself points at such a document, its text and what was expected are left out too, and
    every chunk is marked ``withheld``."""

    ord: int
    id: str
    question: str
    failed: bool
    reasons: list[str] = []
    metrics: dict[str, float | None]
    latency_ms: float | None
    answer: str | None
    refused: bool | None
    citations: list[str]
    error: str | None
    retrieved: list[dict[str, Any]]
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    judge: dict[str, Any] | None
    expected_sources: dict[str, int]
    reference_answers: list[str]
    answerable: bool | None
    withheld: bool = False


class ResultsOut(BaseModel):
    """A page of results; ``total`` counts those matching the filter."""

    run_id: int
    total: int
    results: list[ResultOut]


class RunIn(Request):
    """Start a run of ``eval_set`` against a knowledge base or an assistant (exactly one)."""

    eval_set: str = Field(min_length=1, max_length=128)
    kb: str | None = Field(default=None, max_length=128)
    assistant: str | None = Field(default=None, max_length=64)
    mode: Literal["hybrid", "keyword", "vector"] = "hybrid"
    top_k: int = Field(default=10, ge=1, le=100)
    with_answer: bool = True
    tags: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=20)


class DeltaOut(BaseModel):
    """One metric, B against A over ``n`` paired questions: means, B − A and its 95% paired
    bootstrap interval; ``significant`` when the interval excludes zero."""

    metric: str
    n: int
    a: float | None
    b: float | None
    delta: float | None
    low: float | None
    high: float | None
    significant: bool


class ChangeOut(BaseModel):
    """A question whose key metric moved; ``withheld``: its text is left out (it points at a
    document the caller may not read)."""

    id: str
    question: str
    a: float
    b: float
    delta: float
    withheld: bool = False


class ComparisonOut(BaseModel):
    """Run A against run B, question by question."""

    run_a: RunOut
    run_b: RunOut
    key_metric: str
    deltas: list[DeltaOut]
    improved: list[ChangeOut]
    regressed: list[ChangeOut]
    only_in_a: int
    only_in_b: int


def _allowed(caller: Principal, level: Level = Level.READ) -> None:
    """At least ``level``, with a session or an unscoped key: sets and runs span the
    workspace."""
    caller.require(level)
    if caller.kbs is not None or caller.assistants is not None:
        raise Forbidden("evaluation needs a key that is not limited to some knowledge bases "
                        "or assistants")


def _run_out(run: runs.RunRecord) -> dict[str, Any]:
    return evals_view.clean({
        "id": run.id, "set": run.set_name, "target": run.target, "config": run.config,
        "status": run.status, "summary": run.summary,
        "key_metric": compare.key_metric(list(run.summary.get("metrics", {}))),
        "error": run.error, "created_at": run.created_at, "finished_at": run.finished_at,
        "withheld_questions": runs.withheld_count(run),
    })


@router.get("/v1/evals/sets", response_model=list[EvalSetOut])
def list_sets(caller: Caller, zk: Service) -> list[EvalSetOut]:
    """The workspace's eval sets, oldest first."""
    _allowed(caller)
    return [EvalSetOut(**asdict(s)) for s in sets.list_sets(zk.evals)]


@router.post("/v1/evals/sets", response_model=EvalSetOut, status_code=201)
def create_set(body: EvalSetIn, caller: Caller, zk: Service) -> EvalSetOut:
    """Create an eval set from questions (``replace`` overwrites a set of the same name)."""
    _allowed(caller, Level.WRITE)
    questions = []
    for n, item in enumerate(body.questions, 1):
        where = f"question {n}"
        try:
            questions.append(parse_question(item, where))
        except InvalidInput as exc:
            if exc.message.startswith(where):
                raise
            raise InvalidInput(f"{where}: {exc.message}") from exc
    made = sets.create_set(zk.evals, body.name, questions, description=body.description,
                           origin="api", replace=body.replace)
    return EvalSetOut(**asdict(made))


@router.get("/v1/evals/sets/{eval_set}/questions", response_model=list[QuestionOut])
def list_questions(eval_set: SetName, caller: Caller, zk: Service) -> list[QuestionOut]:
    """The questions of a set, in import order; those pointing at a document the caller may
    not read are ``withheld``."""
    _allowed(caller)
    shown = sets.questions_as(zk.evals, eval_set, current_reader())
    return [QuestionOut(**{**q.to_dict(), "id": q.ext_id}, withheld=q.withheld) for q in shown]


@router.get("/v1/evals/runs", response_model=list[RunOut])
def list_runs(
    caller: Caller,
    zk: Service,
    eval_set: Annotated[str | None, Query(alias="set", max_length=128)] = None,
) -> list[RunOut]:
    """Runs, newest first (optionally of one set)."""
    _allowed(caller)
    return [RunOut(**_run_out(r)) for r in runs.list_runs(zk.evals, eval_set)]


@router.post("/v1/evals/runs", response_model=RunOut, status_code=202)
def start_run(body: RunIn, caller: Caller, zk: Service, state: State) -> RunOut:
    """Start a run in the background (poll ``GET /v1/evals/runs/{id}`` until its status is
    ``done`` or ``failed``). Answers are extractive or from the assistant's model."""
    _allowed(caller, Level.WRITE)
    if (body.kb is None) == (body.assistant is None):
        raise InvalidInput("give exactly one of 'kb' or 'assistant'")
    if body.kb is not None:
        caller.check_kb(body.kb)
        kind, name = "kb", body.kb
    else:
        assert body.assistant is not None
        visible_assistant(zk, caller, body.assistant)
        if body.mode != "hybrid":
            raise InvalidInput("an assistant is evaluated with its own retrieval (mode hybrid)")
        kind, name = "app", body.assistant
    options = runs.RunOptions(top_k=body.top_k, with_answer=body.with_answer, tags=body.tags)
    run_id = zk.jobs.submit_eval(body.eval_set, kind, name, body.mode, options)
    return RunOut(**_run_out(runs.get_run(zk.evals, run_id)))


@router.get("/v1/evals/runs/{run_id}", response_model=RunDetailOut)
def get_run(run_id: Id, caller: Caller, zk: Service) -> RunDetailOut:
    """A run with metric intervals and distributions (for charts)."""
    _allowed(caller)
    run = runs.get_run(zk.evals, run_id)
    top_k = int(run.config.get("top_k", 10))
    dist = evals_view.distributions(runs.results(zk.evals, run_id), top_k)
    return RunDetailOut(**_run_out(run), distributions=dist)


@router.get("/v1/evals/runs/{run_id}/results", response_model=ResultsOut)
def run_results(
    run_id: Id,
    caller: Caller,
    zk: Service,
    failing: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ResultsOut:
    """Per-question results in question order; ``failing=true``: only the failing ones."""
    _allowed(caller)
    run = runs.get_run(zk.evals, run_id)
    top_k = int(run.config.get("top_k", 10))
    results = runs.results(zk.evals, run_id)
    if failing:
        results = [r for r in results if evals_view.failed(r, top_k)]
    page = results[offset:offset + limit]
    expected: dict[int | None, EvalQuestion] = {}
    with suppress(NotFound):  # the set may have been deleted or replaced since
        expected = {q.id: q for q in sets.questions_as(zk.evals, run.set_name,
                                                       current_reader())}
    return ResultsOut(run_id=run_id, total=len(results), results=[
        ResultOut(**evals_view.result_out(r, top_k, expected.get(r.question_id)))
        for r in page])


@router.get("/v1/evals/compare", response_model=ComparisonOut)
def compare_runs(
    a: Annotated[int, Query(ge=1, le=MAX_ID, description="Run A (the baseline).")],
    b: Annotated[int, Query(ge=1, le=MAX_ID, description="Run B.")],
    caller: Caller,
    zk: Service,
    metric: Annotated[str | None, Query(max_length=64, description="The key metric.")] = None,
) -> ComparisonOut:
    """Every shared metric of B against A with paired-bootstrap intervals, and the questions
    whose key metric improved or regressed (largest change first)."""
    _allowed(caller)
    run_a, run_b = runs.get_run(zk.evals, a), runs.get_run(zk.evals, b)
    cmp = compare.compare_runs(zk.evals, a, b, metric=metric)
    changes = [
        [ChangeOut(id=c.ext_id, question=c.question, a=c.a, b=c.b, delta=c.delta,
                   withheld=c.withheld)
         for c in group]
        for group in (cmp.improved, cmp.regressed)
    ]
    return ComparisonOut(
        run_a=RunOut(**_run_out(run_a)), run_b=RunOut(**_run_out(run_b)),
        key_metric=cmp.key_metric,
        deltas=[DeltaOut(**evals_view.clean(asdict(d)), significant=d.significant)
                for d in cmp.deltas],
        improved=changes[0], regressed=changes[1],
        only_in_a=cmp.only_in_a, only_in_b=cmp.only_in_b,
    )
