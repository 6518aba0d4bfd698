"""A workspace's moderation applied to workflow and agent runs, with the same moderator and
streaming filter as assistant answers.

Before the run, the message (an agent's ``query`` or last user message, each text input of a
workflow) is checked: a blocked one ends the run at once with the policy's reply as its
answer (no model is called, nothing is recorded as a run); listed words to mask are masked in
what the run gets. While the run streams, its answer tokens (and reasoning) pass through an
``OutputFilter``, so a blocked word never reaches the reader: the run is stopped and the
policy's reply becomes the answer. A node's own tokens pass through a filter per node (a
blocked word withholds the rest of that node's tokens and is logged; masked words are logged
with the answer they end up in); the text inside other events (node
outputs, tool calls and results, citations) has listed words masked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from zhiku.apps.running import AppEvent, AppKind, AppResult, AppRun, close_events
from zhiku.moderation.guard import Moderator, OutputFilter


def moderate_inputs(moderator: Moderator, kind: AppKind, inputs: Mapping[str, Any],
                    app: str, channel: str | None) -> dict[str, Any] | None:
    """``inputs`` with listed words masked, or None when one of them is blocked."""
    out = dict(inputs)
    if kind == "agent":
        messages = out.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[-1], Mapping):
            last = dict(messages[-1])
            if isinstance(last.get("content"), str):
                verdict = moderator.check_input(last["content"], app, channel)
                if verdict.blocked:
                    return None
                last["content"] = verdict.text
                out["messages"] = [*messages[:-1], last]
            return out
    for name, value in inputs.items():
        if isinstance(value, str) and value:
            verdict = moderator.check_input(value, app, channel)
            if verdict.blocked:
                return None
            out[name] = verdict.text
    return out


def blocked_run(moderator: Moderator, kind: AppKind, app: str,
                version: int | None) -> AppRun:
    """A run whose question was blocked: the policy's reply as a normal answer."""
    reply = moderator.policy.block_reply

    def events() -> Iterator[AppEvent]:
        yield AppEvent("started", {"kind": kind, "app": app, "version": version,
                                   "moderated": True})
        yield AppEvent("token", {"text": reply})
        result = _blocked_result(kind, app, version, reply, None)
        yield AppEvent("done", result.to_dict(), result)

    return AppRun(events())


def moderate_run(moderator: Moderator, run: AppRun, app: str,
                 channel: str | None) -> AppRun:
    """``run`` with its streamed text checked (see the module's docstring)."""
    return AppRun(_moderated(moderator, run, app, channel))


def _moderated(moderator: Moderator, run: AppRun, app: str,
               channel: str | None) -> Iterator[AppEvent]:
    answer = {k: moderator.output_filter(app, channel) for k in ("token", "reasoning")}
    nodes: dict[str, OutputFilter] = {}
    started: dict[str, Any] = {}
    inner = iter(run)
    try:
        for event in inner:
            if event.type == "started":
                started = event.data
            if event.type in answer:
                text = answer[event.type].feed(str(event.data.get("text", "")))
                if answer[event.type].blocked:
                    close_events(inner)
                    yield from _blocked_tail(moderator, started, answer["token"].released)
                    return
                if text:
                    yield AppEvent(event.type, {**event.data, "text": text})
            elif event.type == "node_token":
                node = str(event.data.get("node_id"))
                flt = nodes.setdefault(node, moderator.output_filter(app, channel,
                                                                     log_masks=False))
                text = flt.feed(str(event.data.get("text", "")))
                if text:
                    yield AppEvent(event.type, {**event.data, "text": text})
            elif event.result is not None:
                for kind, flt in answer.items():
                    tail = flt.finish()
                    if tail:
                        yield AppEvent(kind, {"text": tail})
                for flt in nodes.values():
                    flt.finish()
                result = _checked(moderator, event.result, started,
                                  streamed=answer["token"].released)
                yield AppEvent("done", result.to_dict(), result)
            else:
                yield AppEvent(event.type, _scrub(moderator, event.data))
    finally:
        close_events(inner)


def _blocked_tail(moderator: Moderator, started: Mapping[str, Any],
                  sent: bool) -> Iterator[AppEvent]:
    """The policy's reply after a blocked word in the answer (readers that only concatenate
    tokens see it too; the result's output is the reply alone)."""
    reply = moderator.policy.block_reply
    yield AppEvent("token", {"text": ("\n\n" if sent else "") + reply})
    kind = started.get("kind", "workflow")
    result = _blocked_result(kind, str(started.get("app", "")), started.get("version"),
                             reply, started.get("run_id"))
    yield AppEvent("done", result.to_dict(), result)


def _blocked_result(kind: AppKind, app: str, version: int | None, reply: str,
                    run_id: int | None) -> AppResult:
    return AppResult(kind, app, "succeeded", reply, refused=True, run_id=run_id,
                     version=version, detail={"moderated": True})


def _checked(moderator: Moderator, result: AppResult, started: Mapping[str, Any], *,
             streamed: bool) -> AppResult:
    """The final result with its answer checked as a whole (logged here unless it was
    logged while it streamed) and listed words masked everywhere else."""
    verdict = moderator.check_output(result.output, result.app, None, record=not streamed)
    if verdict.blocked:
        return _blocked_result(result.kind, result.app, result.version,
                               moderator.policy.block_reply,
                               result.run_id or started.get("run_id"))
    outputs = _scrub(moderator, result.outputs)
    if isinstance(result.outputs.get("answer"), str):
        outputs["answer"] = verdict.text
    return replace(result, output=verdict.text, outputs=outputs,
                   citations=_scrub(moderator, result.citations),
                   detail=_scrub(moderator, result.detail))


def _scrub(moderator: Moderator, value: Any) -> Any:
    """``value`` with listed words masked in every text inside it."""
    if isinstance(value, str):
        return moderator.scrub(value)
    if isinstance(value, dict):
        return {k: _scrub(moderator, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(moderator, v) for v in value]
    return value
