"""Running one tool call: a daemon thread per call, bounded by a time-out.

A call that does not return in time is abandoned (its thread is a daemon, so a hung tool never
keeps the process alive) and reported as a time-out.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zhiku.core.errors import ZhikuError
from zhiku.models.llm.types import ToolCall
from zhiku.workflows.tools import ToolRegistry

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Outcome:
    """What one call gave: a value, or an error message for the model."""

    call: ToolCall
    ok: bool
    value: Any
    latency_ms: float


def _invoke(registry: ToolRegistry, call: ToolCall, allowed: set[str]) -> tuple[bool, Any]:
    if call.error is not None:
        return False, call.error
    if call.name not in allowed or call.name not in registry:
        return False, f"unknown tool '{call.name}'; the tools are: {', '.join(sorted(allowed))}"
    try:
        return True, registry.get(call.name).call(call.arguments)
    except ZhikuError as exc:
        return False, f"{type(exc).__name__}: {exc}"


def run_calls(registry: ToolRegistry, calls: Sequence[ToolCall], allowed: set[str],
              timeout: float, parallel: bool) -> list[Outcome]:
    """Every call's outcome, in the order of ``calls``; in parallel threads when allowed."""
    if not parallel:
        return [_run_one(registry, c, allowed, timeout) for c in calls]
    slots: list[Outcome | None] = [None] * len(calls)
    threads = []
    for i, call in enumerate(calls):
        def work(i: int = i, call: ToolCall = call) -> None:
            slots[i] = _run_one(registry, call, allowed, timeout)

        thread = threading.Thread(target=contextvars.copy_context().run, args=(work,),
                                  name="zhiku-agent-tools", daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()  # each _run_one is itself bounded by ``timeout``
    return [s for s in slots if s is not None]


def _run_one(registry: ToolRegistry, call: ToolCall, allowed: set[str],
             timeout: float) -> Outcome:
    start = time.perf_counter()
    box: list[tuple[bool, Any]] = []

    def work() -> None:
        try:
            box.append(_invoke(registry, call, allowed))
        except Exception as exc:  # a tool's own bug: reported to the model and logged
            log.exception("tool %s failed", call.name)
            box.append((False, f"the tool '{call.name}' failed: {type(exc).__name__}"))

    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,),
                              name=f"zhiku-tool-{call.name}"[:60], daemon=True)
    thread.start()
    thread.join(timeout)
    latency = (time.perf_counter() - start) * 1000
    if not box:
        return Outcome(call, False, f"the tool '{call.name}' did not answer within {timeout:g} s",
                       latency)
    ok, value = box[0]
    return Outcome(call, ok, value, latency)
