"""Running an app of any kind with one event vocabulary and one result.

Events (``AppEvent.type``): ``started``; ``token`` (a piece of the answer) and ``reasoning``;
``citations``; a workflow's ``node_token`` (tokens of a node that is not its answer),
``node_started``, ``node_finished``, ``node_skipped``,
``node_retry`` and ``node_failed``; an agent's ``step``, ``tool_call`` and ``tool_result``;
``error`` (a run that failed, before its ``done``); and ``done``, whose data is the
``AppResult``: the final text (``output``), a workflow's ``outputs``, ``citations``,
``grounded``, ``refused``, ``usage`` (tokens, cost, latency) and the recorded ``run_id``.

Each ``start_*`` function does its checks (the app, its inputs, its models) before returning, so
a bad request fails at once rather than inside the stream.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from zhiku.core.errors import InvalidInput

if TYPE_CHECKING:
    from zhiku.agents.service import Agents
    from zhiku.chat.engine import ChatEngine
    from zhiku.chat.store import Owner
    from zhiku.models.llm.types import CancelToken, Message
    from zhiku.workflows.schema import Workflow
    from zhiku.workflows.service import Workflows

AppKind = Literal["assistant", "workflow", "agent"]
KINDS: tuple[AppKind, ...] = ("assistant", "workflow", "agent")
_NODE_EVENTS = frozenset({"node_started", "node_finished", "node_skipped", "node_retry",
                          "node_failed"})
_ONLY_REF = re.compile(r"^\s*\{\{\s*([a-z_][a-z0-9_]*)\.(text|answer)\s*\}\}\s*$")
_AGENT_EVENTS = frozenset({"step", "tool_call", "tool_result"})


@dataclass(slots=True)
class AppResult:
    """A finished run of an app of any kind."""

    kind: AppKind
    app: str
    status: Literal["succeeded", "failed", "timeout", "cancelled"]
    output: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    grounded: bool = False
    refused: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None
    version: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    latency_ms: float = 0.0
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def usage(self) -> dict[str, Any]:
        """Tokens, cost and latency of the run."""
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cost": round(self.cost, 8), "latency_ms": round(self.latency_ms, 3)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``usage`` nested)."""
        return {"kind": self.kind, "app": self.app, "run_id": self.run_id,
                "version": self.version, "status": self.status, "output": self.output,
                "outputs": self.outputs, "citations": self.citations,
                "grounded": self.grounded, "refused": self.refused, "usage": self.usage(),
                "error": self.error, "detail": self.detail}


@dataclass(slots=True)
class AppEvent:
    """One event of a run: its type and data (``done`` also holds the ``result``)."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    result: AppResult | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"type", ...data}``."""
        return {"type": self.type, **self.data}

    def sse(self) -> str:
        """The event as one server-sent event."""
        body = json.dumps(self.to_dict(), ensure_ascii=False, default=str)
        return f"event: {self.type}\ndata: {body}\n\n"


class AppRun:
    """A run as an iterator of ``AppEvent``s; ``result`` is set when ``done`` has passed.
    Leaving early cancels the run (the underlying stream is closed)."""

    def __init__(self, events: Iterator[AppEvent]) -> None:
        self.result: AppResult | None = None
        self._events = events

    def __iter__(self) -> Iterator[AppEvent]:
        for event in self._events:
            if event.result is not None:
                self.result = event.result
            yield event

    def finish(self) -> AppResult:
        """Run to the end; the result."""
        for _ in self:
            pass
        if self.result is None:  # every adapter ends with ``done``
            raise RuntimeError("the run ended without a result")
        return self.result


def _done(result: AppResult) -> Iterator[AppEvent]:
    if result.status != "succeeded":
        yield AppEvent("error", {"error": {"type": result.status,
                                           "message": result.error or result.status}})
    yield AppEvent("done", result.to_dict(), result)


def close_events(events: Iterator[Any]) -> None:
    """Stop a run's event generator (a reader that left early cancels the run)."""
    close = getattr(events, "close", None)
    if close is not None:
        close()


# -- inputs --------------------------------------------------------------------------------
def split_messages(messages: Sequence[Mapping[str, Any]]) -> tuple[str, list[Message]]:
    """The last user message and the user/assistant turns before it (others are left out)."""
    turns: list[Message] = []
    for m in messages:
        if not isinstance(m, Mapping):
            raise InvalidInput("each message is an object with a role and a content")
        role, content = m.get("role"), m.get("content")
        if role not in ("user", "assistant"):
            continue
        if not isinstance(content, str):
            raise InvalidInput("a message's content must be text")
        turns.append({"role": role, "content": content})
    if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
        raise InvalidInput("the last message must be a non-empty user message")
    return turns[-1]["content"], turns[:-1]


def chat_inputs(inputs: Mapping[str, Any]) -> tuple[str, list[Message] | None]:
    """The question (``query``) or the ``messages`` of an assistant's or agent's run."""
    unknown = sorted(set(inputs) - {"query", "messages"})
    if unknown:
        raise InvalidInput(f"unknown inputs: {unknown}; this app takes 'query' or 'messages'")
    if "messages" in inputs:
        if "query" in inputs:
            raise InvalidInput("give a query or messages, not both")
        messages = inputs["messages"]
        if not isinstance(messages, list):
            raise InvalidInput("messages must be a list")
        return split_messages(messages)
    query = inputs.get("query")
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput("input 'query' is required (a non-empty text)")
    return query, None


def chat_input(wf: Workflow) -> str:
    """The one text input a chat-shaped workflow takes (``InvalidInput`` saying why a
    workflow is not chat-shaped)."""
    start = wf.start
    specs = list(start.inputs) if start else []
    required = [s for s in specs if s.required and s.default is None]
    texts = [s for s in specs if s.type in ("string", "any")]
    if len(required) > 1:
        names = ", ".join(s.name for s in required)
        raise InvalidInput(f"this workflow is not chat-shaped: it requires several inputs "
                           f"({names}); run it at /v1/apps/{{slug}}/run")
    if required:
        if required[0].type not in ("string", "any"):
            raise InvalidInput(f"this workflow is not chat-shaped: its input "
                               f"'{required[0].name}' is of type {required[0].type}, not text")
        return required[0].name
    if len(texts) == 1:
        return texts[0].name
    raise InvalidInput("this workflow is not chat-shaped: it takes no single text input")


# -- assistants ----------------------------------------------------------------------------
def start_assistant(engine: ChatEngine, slug: str, inputs: Mapping[str, Any], *,
                    owner: Owner | None = None, endpoint: str | None = None,
                    cancel: CancelToken | None = None, store: bool = True,
                    conversation_id: int | None = None) -> AppRun:
    """One turn of the assistant ``slug`` (stored as a new conversation, or as the next turn
    of ``conversation_id``, unless ``store`` is false; ``messages``' earlier turns are its
    history)."""
    question, history = chat_inputs(inputs)
    stream = engine.stream(slug, question, conversation_id, cancel, store=store,
                           history=history, owner=owner, endpoint=endpoint)
    version = stream.assistant.published_version

    def events() -> Iterator[AppEvent]:
        yield AppEvent("started", {"kind": "assistant", "app": slug, "version": version,
                                   "conversation_id": stream.conversation_id})
        inner = stream.__iter__()
        try:
            for event in inner:
                if event.kind == "token":
                    yield AppEvent("token", {"text": event.text})
                elif event.kind == "reasoning":
                    yield AppEvent("reasoning", {"text": event.text})
                elif event.answer is not None:
                    answer = event.answer
                    citations = [asdict(c) for c in answer.citations]
                    if citations:
                        yield AppEvent("citations", {"citations": citations})
                    usage = stream.usage
                    result = AppResult(
                        "assistant", slug, "succeeded", answer.answer, citations,
                        answer.grounded, answer.refused, run_id=stream.message_id,
                        version=version,
                        input_tokens=usage.input_tokens if usage else 0,
                        output_tokens=usage.output_tokens if usage else 0,
                        cost=usage.cost if usage else 0.0,
                        latency_ms=usage.latency_ms if usage else 0.0,
                        detail={"conversation_id": stream.conversation_id,
                                "model": answer.model, "flagged": answer.flagged,
                                "moderated": answer.moderated,
                                "ungrounded_reason": answer.ungrounded_reason,
                                "ungrounded_action": answer.ungrounded_action})
                    yield from _done(result)
        finally:
            inner.close()

    return AppRun(events())


# -- workflows -----------------------------------------------------------------------------
def start_workflow(workflows: Workflows, slug: str, inputs: Mapping[str, Any], *,
                   cancel: CancelToken | None = None) -> AppRun:
    """A recorded run of the workflow ``slug``'s live version with its declared inputs."""
    stored = workflows.get(slug)
    version, answer_nodes = stored.published_version, answer_streams(stored.live)
    stream = workflows.stream(slug, inputs, cancel=cancel)

    def events() -> Iterator[AppEvent]:
        outer = stream.__iter__()
        try:
            for event in outer:
                if event.type == "run_started" and event.node_id is None:
                    yield AppEvent("started", {"kind": "workflow", "app": slug,
                                               "version": version,
                                               "run_id": event.data.get("run_id")})
                elif event.type == "token":
                    kind = "token" if event.node_id in answer_nodes else "node_token"
                    yield AppEvent(kind, {"node_id": event.node_id, **event.data})
                elif event.type in _NODE_EVENTS or event.type == "citations":
                    yield AppEvent(event.type, {"node_id": event.node_id, **event.data})
        finally:
            close_events(outer)
        run = stream.run
        if run is None:  # the stream re-raises a failed run's exception before this
            raise RuntimeError("the workflow run ended without a result")
        yield from _done(workflow_result(slug, run.id, run.result, version))

    return AppRun(events())


def answer_streams(wf: Workflow) -> set[str]:
    """The nodes whose tokens are pieces of the workflow's answer: each ``answer`` node, or,
    when its text is just ``{{ n.text }}`` of an ``llm`` node or ``{{ n.answer }}`` of an
    ``answer_grounded`` node, that node (so the answer streams as the model writes it)."""
    from zhiku.workflows.schema import AnswerGroundedNode, AnswerNode, LLMNode

    nodes = {n.id: n for n in wf.nodes}
    out: set[str] = set()
    for node in wf.nodes:
        if not isinstance(node, AnswerNode):
            continue
        match = _ONLY_REF.match(node.text)
        source = nodes.get(match.group(1)) if match else None
        wanted = "text" if isinstance(source, LLMNode) else \
            "answer" if isinstance(source, AnswerGroundedNode) else None
        if match and match.group(2) == wanted:
            out.add(match.group(1))
        else:
            out.add(node.id)
    return out


def workflow_result(slug: str, run_id: int | None, run: Any, version: int | None = None
                    ) -> AppResult:
    """A workflow run's ``RunResult`` as an ``AppResult``: ``output`` is its ``answer``
    output (or its only text output), ``citations`` and ``grounded`` those it passes on."""
    outputs: dict[str, Any] = dict(run.outputs)
    answer = outputs.get("answer")
    if not isinstance(answer, str):
        texts = [v for v in outputs.values() if isinstance(v, str)]
        answer = texts[0] if len(texts) == 1 else ""
    cited = outputs.get("citations")
    citations = [c for c in cited if isinstance(c, dict)] if isinstance(cited, list) else []
    grounded = outputs.get("grounded")
    return AppResult(
        "workflow", slug, run.status, answer, citations,
        bool(grounded) if isinstance(grounded, bool) else bool(citations),
        bool(outputs.get("refused") is True), outputs, run_id, version,
        run.input_tokens, run.output_tokens, run.cost, run.latency_ms, run.error,
        {"nodes": [n.to_dict() for n in run.nodes]},
    )


# -- agents --------------------------------------------------------------------------------
_AGENT_STATUS: dict[str, Literal["succeeded", "failed", "cancelled"]] = {
    "answered": "succeeded", "cancelled": "cancelled"}


def start_agent(agents: Agents, slug: str, inputs: Mapping[str, Any], *,
                cancel: CancelToken | None = None) -> AppRun:
    """A recorded run of the agent ``slug``'s live version on the last user message (an agent
    keeps no conversation: earlier ``messages`` are not passed on)."""
    message, _ = chat_inputs(inputs)
    stream = agents.stream(slug, message, cancel=cancel)
    version = agents.get(slug).published_version

    def events() -> Iterator[AppEvent]:
        started = time.perf_counter()
        inner = stream.__iter__()
        try:
            for event in inner:
                if event.type == "run_started":
                    yield AppEvent("started", {"kind": "agent", "app": slug,
                                               "version": version, **event.data})
                elif event.type in _AGENT_EVENTS or event.type in ("token", "citations"):
                    yield AppEvent(event.type, dict(event.data))
        finally:
            close_events(inner)
        r = stream.result
        if r is None:
            raise RuntimeError("the agent run ended without a result")
        citations = [asdict(c) for c in r.citations]
        result = AppResult(
            "agent", slug, _AGENT_STATUS.get(r.stop_reason, "failed"), r.answer, citations,
            bool(citations), False, {}, r.run_id, version, r.input_tokens, r.output_tokens,
            r.cost, r.latency_ms or (time.perf_counter() - started) * 1000, r.error,
            {"stop_reason": r.stop_reason, "steps": r.steps,
             "tool_calls": [asdict(t) for t in r.tool_calls]},
        )
        yield from _done(result)

    return AppRun(events())

