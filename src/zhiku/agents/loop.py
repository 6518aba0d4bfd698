"""The tool-calling loop: the model answers or asks for tools; the tools run and their results
go back as quoted data; until an answer, the step limit, the token budget or a cancellation.

The set of tools and the system message are fixed before the first step: nothing a tool returns
can add a tool or change the instructions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from zhiku.agents.builtins import KnowledgeSearch
from zhiku.agents.calls import Outcome, run_calls
from zhiku.agents.config import AgentConfig
from zhiku.agents.events import AgentEvent, AgentSink
from zhiku.agents.quoting import quote_result, system_prompt
from zhiku.agents.result import AgentResult, StopReason, ToolRecord
from zhiku.answer.citations import verify
from zhiku.answer.types import Citation
from zhiku.core.errors import ProviderError
from zhiku.models.llm.errors import Cancelled
from zhiku.models.llm.types import (
    CallRecord,
    CancelToken,
    ChatModel,
    Completion,
    GenerationOptions,
    Message,
)
from zhiku.retrieval.types import Hit
from zhiku.workflows.tools import Tool, ToolRegistry


def tool_spec(tool: Tool) -> dict[str, Any]:
    """``tool`` as an OpenAI ``tools`` entry."""
    return {"type": "function", "function": {
        "name": tool.name, "description": tool.description, "parameters": tool.parameters}}


class AgentLoop:
    """One run of ``config`` over a metered ``model`` (its calls land in ``calls``) and the
    tools of ``registry`` named in ``offered``; ``hits`` gives the passages knowledge search
    numbered, for the answer's citations."""

    def __init__(self, config: AgentConfig, model: ChatModel, registry: ToolRegistry,
                 offered: Sequence[str], calls: list[CallRecord],
                 knowledge: KnowledgeSearch | None = None) -> None:
        self.config = config
        self.model = model
        self.registry = registry
        self.offered = list(offered)
        self.calls = calls
        self._knowledge = knowledge

    def run(self, message: str, sink: AgentSink | None = None,
            cancel: CancelToken | None = None) -> AgentResult:
        """Run to a stop; every event goes to ``sink``."""
        emit = sink or (lambda event: None)
        start = time.perf_counter()
        cfg = self.config
        specs = [tool_spec(self.registry.get(name)) for name in self.offered]
        options = GenerationOptions(
            temperature=cfg.temperature, max_tokens=cfg.max_tokens, tools=specs or None,
            tool_choice="auto" if specs else None,
            parallel_tool_calls=cfg.parallel_tool_calls if specs else None)
        messages: list[Message] = [{"role": "system", "content": system_prompt(cfg.instructions)},
                                   {"role": "user", "content": message}]
        emit(AgentEvent("run_started", {"model": cfg.model, "tools": self.offered}))
        records: list[ToolRecord] = []
        allowed = set(self.offered)
        stop: StopReason = "step_limit"
        error: str | None = None
        answer = ""
        citations: list[Citation] = []
        step = 0
        while step < cfg.step_limit:
            if cancel is not None and cancel.cancelled:
                stop, error = "cancelled", "the run was cancelled"
                break
            if self._tokens() >= cfg.token_budget:
                stop, error = "token_budget", f"the token budget ({cfg.token_budget}) is spent"
                break
            step += 1
            emit(AgentEvent("step", {"step": step}))
            try:
                done = self._call(messages, options, emit, step, cancel)
            except Cancelled:
                stop, error = "cancelled", "the run was cancelled"
                break
            except ProviderError as exc:
                stop, error = "model_error", f"{exc.kind}: {exc.message}"
                break
            if not done.tool_calls:
                answer, citations = self._finish(done.text)
                stop = "answered"
                break
            messages.append({"role": "assistant", "content": done.text,
                             "tool_calls": [c.wire() for c in done.tool_calls]})
            for call in done.tool_calls:
                emit(AgentEvent("tool_call", {"step": step, "id": call.id, "name": call.name,
                                              "arguments": call.arguments,
                                              "error": call.error}))
            outcomes = run_calls(self.registry, done.tool_calls, allowed, cfg.tool_timeout_s,
                                 cfg.parallel_tool_calls)
            for out in outcomes:
                records.append(self._record(step, out))
                emit(AgentEvent("tool_result", {"step": step, "id": out.call.id,
                                                "name": out.call.name, "ok": out.ok,
                                                "result": out.value,
                                                "latency_ms": out.latency_ms}))
                messages.append({"role": "tool", "tool_call_id": out.call.id,
                                 "content": quote_result(out.call.name, out.value, ok=out.ok,
                                                         limit=cfg.max_result_chars)})
        if stop == "step_limit":
            error = f"the step limit ({cfg.step_limit}) was reached without an answer"
        if answer:
            emit(AgentEvent("answer", {"text": answer}))
        if citations:
            emit(AgentEvent("citations", {"citations": [asdict(c) for c in citations]}))
        result = AgentResult(
            answer=answer, stop_reason=stop, steps=step, citations=citations,
            tool_calls=records, input_tokens=sum(c.usage.input_tokens for c in self.calls),
            output_tokens=sum(c.usage.output_tokens for c in self.calls),
            cost=sum(c.cost for c in self.calls),
            latency_ms=(time.perf_counter() - start) * 1000, error=error)
        emit(AgentEvent("stop", {"reason": stop, "error": error, "steps": step,
                                 "input_tokens": result.input_tokens,
                                 "output_tokens": result.output_tokens, "cost": result.cost}))
        return result

    def _tokens(self) -> int:
        return sum(c.usage.input_tokens + c.usage.output_tokens for c in self.calls)

    def _call(self, messages: list[Message], options: GenerationOptions, emit: AgentSink,
              step: int, cancel: CancelToken | None) -> Completion:
        for delta in self.model.stream(messages, options, cancel):
            if delta.text:
                emit(AgentEvent("token", {"step": step, "text": delta.text}))
            if delta.done is not None:
                return delta.done
        from zhiku.models.llm.errors import BrokenStream

        raise BrokenStream("the stream ended without a final completion")

    def _finish(self, text: str) -> tuple[str, list[Citation]]:
        """The answer with citations to passages that were not given removed."""
        hits: list[Hit] = list(self._knowledge.hits) if self._knowledge is not None else []
        checked = verify(text, hits)
        return checked.text, checked.citations

    @staticmethod
    def _record(step: int, out: Outcome) -> ToolRecord:
        return ToolRecord(step, out.call.id, out.call.name, out.call.arguments, out.ok,
                          out.value, out.latency_ms)
