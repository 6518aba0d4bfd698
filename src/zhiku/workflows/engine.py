"""Runs a workflow: independent branches at once, events as it goes, a record of every node.

Scheduling: a node runs once every edge into it is decided, if at least one of them was taken
(a condition or classifier takes only its chosen handle; a failed node only its ``error``
handle). A node none of whose incoming edges was taken is skipped, and so, in turn, is
everything only reachable through it. Nodes with I/O (models, retrieval, HTTP, tools,
iterations) run in a thread pool; nodes that only compute over names run in the scheduler's
thread. ``timeout_s`` bounds a node (its retries included), the workflow's ``timeout_s`` the
run; a timed-out node is cancelled (its model call stopped) and fails.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from zhiku.core.errors import InvalidInput, ZhikuError
from zhiku.models.llm.types import CallRecord, CancelToken
from zhiku.workflows.events import EventSink, EventType, WorkflowEvent
from zhiku.workflows.nodes import INLINE, executor
from zhiku.workflows.nodes.base import NodeContext, NodeResult, Variables
from zhiku.workflows.refs import ExpressionError, Outputs, iter_refs
from zhiku.workflows.results import NodeRecord, NodeStatus, RunResult, RunStatus
from zhiku.workflows.schema import ERROR, AnswerNode, EndNode, Node, StartNode, Workflow
from zhiku.workflows.services import Services
from zhiku.workflows.stream import RunStream
from zhiku.workflows.validate import conforms


class _Stop(Exception):
    """Ends a run early: a node failed without an error branch, a time-out, a cancellation."""

    def __init__(self, status: RunStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NodeTimeout(ZhikuError):
    """A node ran past its ``timeout_s``."""

    status = 504
    kind = "node_timeout"


def check_inputs(wf: Workflow, given: Mapping[str, Any]) -> dict[str, Any]:
    """The run's inputs: declared ones only, required ones present, defaults filled in,
    each of its declared type (``InvalidInput`` otherwise)."""
    start = wf.start
    specs = {i.name: i for i in (start.inputs if start else [])}
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise InvalidInput(f"unknown inputs: {unknown}; the workflow takes {sorted(specs)}")
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        value = given.get(name, spec.default)
        if value is None:
            if spec.required:
                raise InvalidInput(f"input '{name}' is required")
        elif not conforms(value, spec.type):
            raise InvalidInput(f"input '{name}' must be of type {spec.type}")
        out[name] = value
    return out


class WorkflowEngine:
    """Runs validated workflows with the given services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, wf: Workflow, inputs: Mapping[str, Any], on_event: EventSink | None = None,
            cancel: CancelToken | None = None) -> RunResult:
        """Run ``wf`` (a validated definition: see ``validate``) to the end; ``on_event``
        receives every event, one call at a time."""
        values = check_inputs(wf, inputs)
        lock = threading.Lock()

        def emit(type_: EventType, node_id: str | None, data: dict[str, Any]) -> None:
            if on_event is not None:
                with lock:
                    on_event(WorkflowEvent(type_, node_id, data))

        token = cancel or CancelToken()
        started = time.perf_counter()
        emit("run_started", None, {"inputs": values})
        variables = Variables({k: v.default for k, v in wf.variables.items()},
                              {k: v.type for k, v in wf.variables.items()})
        run = _Run(self, wf, {}, variables, emit, token, "", time.monotonic() + wf.timeout_s,
                   None)
        status: RunStatus = "succeeded"
        error: str | None = None
        try:
            run.execute(values)
        except _Stop as stop:
            status, error = stop.status, stop.message
        result = RunResult(status, run.final_outputs() if status == "succeeded" else {}, error,
                           run.records, round((time.perf_counter() - started) * 1000, 3))
        emit("run_finished", None, {
            "status": status, "outputs": result.outputs, "error": error,
            "latency_ms": result.latency_ms, "input_tokens": result.input_tokens,
            "output_tokens": result.output_tokens, "cost": result.cost,
        })
        return result

    def stream(self, wf: Workflow, inputs: Mapping[str, Any],
               cancel: CancelToken | None = None) -> RunStream:
        """The run as an iterator of events (it runs in a thread of its own)."""
        check_inputs(wf, inputs)  # bad inputs fail here, not inside the thread
        return RunStream(lambda sink, token: self.run(wf, inputs, sink, token), cancel)


@dataclass(slots=True)
class _Running:
    node: Node
    started: float
    deadline: float | None
    token: CancelToken
    ctx: NodeContext
    inputs: dict[str, Any]


class _Run:
    """The scheduler of one (sub-)workflow run."""

    def __init__(self, engine: WorkflowEngine, wf: Workflow, extra: Mapping[str, Any],
                 variables: Variables,
                 emit: Callable[[EventType, str | None, dict[str, Any]], None],
                 cancel: CancelToken, prefix: str, deadline: float,
                 calls: list[CallRecord] | None) -> None:
        self.engine = engine
        self.wf = wf
        self.extra = dict(extra)
        self.variables = variables
        self._emit = emit
        self.cancel = cancel
        self.prefix = prefix
        self.deadline = deadline
        self.calls = calls  # a parent iteration's tally of model calls
        self.by_id: dict[str, Node] = {n.id: n for n in wf.nodes}
        self.after: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.waiting: dict[str, int] = dict.fromkeys(self.by_id, 0)
        for e in wf.edges:
            self.after[e.source].append((e.handle, e.target))
            self.waiting[e.target] += 1
        self.taken: dict[str, int] = dict.fromkeys(self.by_id, 0)
        self.outputs: dict[str, Outputs] = {}
        self.records: list[NodeRecord] = []
        self.ready: deque[str] = deque(i for i, n in self.waiting.items() if n == 0)
        self.roots = set(self.ready)
        self.running: dict[Future[tuple[NodeResult, int]], _Running] = {}
        self.pool: ThreadPoolExecutor | None = None
        self.start_values: dict[str, Any] = {}

    def emit(self, type_: EventType, node_id: str | None, data: dict[str, Any]) -> None:
        self._emit(type_, None if node_id is None else self.prefix + node_id, data)

    # -- the loop -------------------------------------------------------------------------
    def execute(self, start_values: Mapping[str, Any]) -> None:
        """Run every node that should run; ``_Stop`` ends it early."""
        self.start_values = dict(start_values)
        try:
            while self.ready or self.running:
                if self.cancel.cancelled:
                    raise _Stop("cancelled", "the run was cancelled")
                while self.ready:
                    nid = self.ready.popleft()
                    if nid in self.roots or self.taken[nid]:
                        self.launch(self.by_id[nid])
                    else:
                        self.skip(nid)
                if self.running:
                    self.collect()
        except _Stop:
            for r in self.running.values():
                r.token.cancel()
            raise
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)

    def collect(self) -> None:
        """Wait for a pool node to finish (or a deadline to pass) and handle it."""
        now = time.monotonic()
        limits = [r.deadline for r in self.running.values() if r.deadline is not None]
        limit = min([self.deadline, *limits]) - now
        done, _ = wait(list(self.running), timeout=max(0.0, min(limit, 0.25)),
                       return_when=FIRST_COMPLETED)
        for future in done:
            r = self.running.pop(future)
            try:
                result, attempts = future.result()
            except _Failed as failed:
                self.fail(r, failed.error, failed.attempts)
            else:
                self.complete(r, result, attempts)
        now = time.monotonic()
        for future, r in list(self.running.items()):
            if r.deadline is not None and now >= r.deadline:
                self.running.pop(future)
                r.token.cancel()
                assert r.node.timeout_s is not None
                self.fail(r, NodeTimeout(f"timed out after {r.node.timeout_s:g} s"), 0)
        if now >= self.deadline:
            raise _Stop("timeout", f"the run timed out after {self.wf.timeout_s:g} s")

    # -- one node -------------------------------------------------------------------------
    def names(self) -> dict[str, Any]:
        """What a node's templates and expressions may read."""
        return {**self.extra, **self.outputs, "vars": self.variables.snapshot()}

    def launch(self, node: Node) -> None:
        now = time.monotonic()
        token = CancelToken()
        names = self.names()
        calls: list[CallRecord] = []
        ctx = NodeContext(
            names, self.engine.services, token, self.variables,
            lambda t, d: self.emit(t, node.id, d),
            lambda body, extra, label: self.sub_run(body, extra, node.id + label, calls, token),
            calls,
        )
        inputs = _inputs(node, names)
        deadline = now + node.timeout_s if node.timeout_s is not None else None
        r = _Running(node, time.perf_counter(), deadline, token, ctx, inputs)
        self.emit("node_started", node.id, {"node_type": node.type})
        if isinstance(node, StartNode):
            self.complete(r, NodeResult(dict(self.start_values)), 1)
        elif node.type in INLINE:
            try:
                result, attempts = _attempt(node, ctx, self)
            except _Failed as failed:
                self.fail(r, failed.error, failed.attempts)
            else:
                self.complete(r, result, attempts)
        else:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(self.wf.max_workers,
                                               thread_name_prefix="zhiku-workflow")
            # the caller's context (its reader and audit actor) goes with the node
            run = contextvars.copy_context().run
            self.running[self.pool.submit(run, _attempt, node, ctx, self)] = r

    def complete(self, r: _Running, result: NodeResult, attempts: int,
                 status: NodeStatus = "succeeded", error: str | None = None) -> None:
        node = r.node
        tokens_in = sum(c.usage.input_tokens for c in r.ctx.calls)
        tokens_out = sum(c.usage.output_tokens for c in r.ctx.calls)
        cost = sum(c.cost for c in r.ctx.calls)
        if self.calls is not None:
            self.calls.extend(r.ctx.calls)
        latency = round((time.perf_counter() - r.started) * 1000, 3)
        self.records.append(NodeRecord(node.id, node.type, status, r.inputs, result.outputs,
                                       latency, tokens_in, tokens_out, cost, attempts, error))
        self.outputs[node.id] = Outputs(result.outputs)
        if status == "succeeded":
            self.emit("node_finished", node.id, {
                "node_type": node.type, "outputs": result.outputs, "branch": result.handle,
                "latency_ms": latency, "input_tokens": tokens_in, "output_tokens": tokens_out,
                "cost": cost, "attempts": attempts,
            })
        self.resolve(node.id, result.handle)

    def fail(self, r: _Running, exc: BaseException, attempts: int) -> None:
        message = exc.message if isinstance(exc, ZhikuError) else f"{type(exc).__name__}: {exc}"
        handled = any(h == ERROR for h, _ in self.after[r.node.id])
        self.emit("node_failed", r.node.id, {"node_type": r.node.type, "error": message,
                                             "handled": handled, "attempts": attempts})
        if not handled:
            self.complete_failed(r, message, attempts)
            raise _Stop("failed", f"node {self.prefix}{r.node.id} failed: {message}")
        self.complete(r, NodeResult({"error": message}, ERROR), attempts, "failed", message)

    def complete_failed(self, r: _Running, message: str, attempts: int) -> None:
        latency = round((time.perf_counter() - r.started) * 1000, 3)
        self.records.append(NodeRecord(r.node.id, r.node.type, "failed", r.inputs, {}, latency,
                                       sum(c.usage.input_tokens for c in r.ctx.calls),
                                       sum(c.usage.output_tokens for c in r.ctx.calls),
                                       sum(c.cost for c in r.ctx.calls), attempts, message))

    def skip(self, nid: str) -> None:
        self.records.append(NodeRecord(nid, self.by_id[nid].type, "skipped"))
        self.outputs[nid] = Outputs()
        self.emit("node_skipped", nid, {"node_type": self.by_id[nid].type})
        self.resolve(nid, None)

    def resolve(self, nid: str, handle: str | None) -> None:
        """Decide the edges out of ``nid``: the one(s) by ``handle`` taken, the rest not."""
        for h, target in self.after[nid]:
            self.waiting[target] -= 1
            if h == handle:
                self.taken[target] += 1
            if self.waiting[target] == 0:
                self.ready.append(target)

    # -- iteration bodies and results -----------------------------------------------------
    def sub_run(self, body: Workflow, extra: Mapping[str, Any], label: str,
                sink: list[CallRecord], cancel: CancelToken) -> dict[str, Any]:
        """Run ``body`` with ``extra`` names, its model calls tallied into ``sink``; its
        result, or ``InvalidInput`` naming the item when it fails."""
        base = {**self.extra, **self.outputs, **extra}
        child = _Run(self.engine, body, base, self.variables, self._emit, cancel,
                     f"{self.prefix}{label}.", self.deadline, sink)
        try:
            child.execute({})
        except _Stop as stop:
            raise InvalidInput(f"item {label}: {stop.message}") from None
        return child.final_outputs(body=True)

    def final_outputs(self, body: bool = False) -> dict[str, Any]:
        """End and answer outputs merged; a body without them gives its last node's."""
        done = {r.node_id for r in self.records if r.status == "succeeded"}
        out: dict[str, Any] = {}
        for n in self.wf.nodes:
            if isinstance(n, EndNode | AnswerNode) and n.id in done:
                out.update(self.outputs[n.id])
        if out or not body:
            return out
        sinks = [r.node_id for r in self.records
                 if r.status == "succeeded" and not self.after[r.node_id]]
        return dict(self.outputs[sinks[-1]]) if sinks else {}


class _Failed(Exception):
    """A node failed after its last attempt."""

    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


def _attempt(node: Node, ctx: NodeContext, run: _Run) -> tuple[NodeResult, int]:
    """Run ``node``, retrying with back-off as its ``retry`` allows."""
    run_node = executor(node.type)
    wait_s = node.retry.backoff_s
    for attempt in range(1, node.retry.attempts + 1):
        try:
            return run_node(node, ctx), attempt
        except ExpressionError as exc:  # the same names give the same failure: no retry
            raise _Failed(exc, attempt) from None
        except Exception as exc:  # recorded and reported as the node's failure
            if attempt == node.retry.attempts or ctx.cancel.cancelled:
                raise _Failed(exc, attempt) from None
            message = exc.message if isinstance(exc, ZhikuError) else str(exc)
            run.emit("node_retry", node.id, {"attempt": attempt, "error": message,
                                             "wait_s": wait_s})
            if ctx.cancel.wait(wait_s):
                raise _Failed(exc, attempt) from None
            wait_s *= node.retry.factor
    raise AssertionError("retry.attempts is at least 1")


def _inputs(node: Node, names: Mapping[str, Any]) -> dict[str, Any]:
    """The values a node's templates and expressions read, by reference."""
    out: dict[str, Any] = {}
    for _field, kind, text in node.texts():
        try:
            refs = iter_refs(kind, text)
            for ref, attr in refs:
                value = names.get(ref)
                if attr is not None and isinstance(value, Mapping):
                    out[f"{ref}.{attr}"] = value.get(attr)
                elif attr is None and ref in names:
                    out[ref] = value
        except ExpressionError:
            continue
    return out
