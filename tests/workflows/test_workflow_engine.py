"""The engine with logic, tool, HTTP and iteration nodes: branches, skips, concurrency, error
branches, retries, time-outs, events and the SSRF guard (real 127.0.0.1 servers)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from wf_support import Site, flow

from zhiku.core.errors import InvalidInput
from zhiku.models.llm.types import CancelToken
from zhiku.service import Zhiku
from zhiku.workflows.engine import WorkflowEngine
from zhiku.workflows.events import WorkflowEvent
from zhiku.workflows.services import ZhikuServices


def _branchy() -> Any:
    return flow(
        [{"id": "cond", "type": "condition",
          "cases": [{"id": "adult", "when": "start.age >= 18"},
                    {"id": "teen", "when": "start.age >= 13"}]},
         {"id": "a", "type": "template", "template": "adult {{ start.age }}"},
         {"id": "t", "type": "template", "template": "teen"},
         {"id": "t2", "type": "template", "template": "{{ t.text }}!"},
         {"id": "k", "type": "template", "template": "kid"},
         {"id": "end", "type": "end",
          "outputs": {"who": "a.text or t2.text or k.text", "teen": "t.text"}}],
        [("start", "cond"), ("cond", "a", "adult"), ("cond", "t", "teen"), ("t", "t2"),
         ("cond", "k", "else"), ("a", "end"), ("t2", "end"), ("k", "end")],
        inputs=[{"name": "age", "type": "integer"}],
    )


@pytest.mark.parametrize(("age", "who", "skipped"), [
    (30, "adult 30", {"t", "t2", "k"}), (15, "teen!", {"a", "k"}), (3, "kid", {"a", "t", "t2"}),
])
def test_condition_skips_the_untaken_branches(engine: WorkflowEngine, age: int, who: str,
                                              skipped: set[str]) -> None:
    result = engine.run(_branchy(), {"age": age})
    assert result.status == "succeeded"
    assert result.outputs["who"] == who
    assert {n.node_id for n in result.nodes if n.status == "skipped"} == skipped
    assert result.node("end").status == "succeeded"


def test_inputs_are_checked(engine: WorkflowEngine) -> None:
    wf = _branchy()
    with pytest.raises(InvalidInput, match="required"):
        engine.run(wf, {})
    with pytest.raises(InvalidInput, match="of type integer"):
        engine.run(wf, {"age": "old"})
    with pytest.raises(InvalidInput, match="unknown inputs"):
        engine.run(wf, {"age": 1, "name": "x"})


def test_events_stream_in_order_and_serve_as_sse(engine: WorkflowEngine) -> None:
    stream = engine.stream(_branchy(), {"age": 20})
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert stream.result is not None and stream.result.outputs["who"] == "adult 20"
    finished = [e for e in events if e.type == "node_finished"]
    assert {e.node_id for e in finished} == {"start", "cond", "a", "end"}
    cond = next(e for e in finished if e.node_id == "cond")
    assert cond.data["branch"] == "adult" and cond.data["latency_ms"] >= 0
    sse = events[-1].sse()
    assert sse.startswith("event: run_finished\ndata: {") and sse.endswith("\n\n")


def test_variables_tools_and_iteration(engine: WorkflowEngine) -> None:
    wf = flow(
        [{"id": "calc", "type": "tool", "tool": "calculator",
          "args": {"expression": "str(start.n) + ' * 2.5'"}},
         {"id": "now", "type": "tool", "tool": "current_time",
          "args": {"timezone": "'Asia/Shanghai'"}},
         {"id": "set", "type": "assign",
          "assignments": [{"variable": "total", "value": "calc.result + 1"}]},
         {"id": "each", "type": "iteration", "items": "[1, 2, 3, 4]", "parallel": True,
          "body": {"nodes": [
              {"id": "sq", "type": "template", "template": "{{ item * item }}"},
              {"id": "out", "type": "end", "outputs": {"sq": "int(sq.text)", "i": "index"}}],
              "edges": [{"source": "sq", "target": "out"}]}},
         {"id": "end", "type": "end", "outputs": {
             "total": "vars.total", "squares": "[r['sq'] for r in each.results]",
             "tz": "now.result['timezone']"}}],
        [("start", "calc"), ("start", "now"), ("calc", "set"), ("start", "each"),
         ("set", "end"), ("each", "end"), ("now", "end")],
        inputs=[{"name": "n", "type": "integer"}],
        variables={"total": {"type": "number", "default": 0}},
    )
    result = engine.run(wf, {"n": 4})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"total": 11.0, "squares": [1, 4, 9, 16], "tz": "Asia/Shanghai"}
    assert result.node("each").outputs["count"] == 4


def test_iteration_is_bounded(engine: WorkflowEngine) -> None:
    wf = flow([{"id": "each", "type": "iteration", "items": "list(range(5))", "max_items": 3,
                "body": {"nodes": [{"id": "x", "type": "template", "template": "{{ item }}"}]}}],
              [("start", "each")])
    result = engine.run(wf, {"q": "x"})
    assert result.status == "failed"
    assert "each" in (result.error or "") and "expression" in (result.error or "")
    wf = flow([{"id": "each", "type": "iteration", "items": "[1, 2, 3, 4]", "max_items": 3,
                "body": {"nodes": [{"id": "x", "type": "template", "template": "{{ item }}"}]}}],
              [("start", "each")])
    result = engine.run(wf, {"q": "x"})
    assert result.status == "failed" and "max_items" in (result.error or "")


def test_a_failure_without_error_branch_fails_the_run(engine: WorkflowEngine) -> None:
    wf = flow([{"id": "bad", "type": "tool", "tool": "calculator",
                "args": {"expression": "'1 / 0'"}},
               {"id": "after", "type": "template", "template": "{{ bad.result }}"}],
              [("start", "bad"), ("bad", "after")])
    events: list[WorkflowEvent] = []
    result = engine.run(wf, {"q": "x"}, events.append)
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("node bad failed: calculator")
    assert result.node("bad").status == "failed"
    assert "after" not in {n.node_id for n in result.nodes}
    failed = next(e for e in events if e.type == "node_failed")
    assert failed.node_id == "bad" and failed.data["handled"] is False
    assert events[-1].data["status"] == "failed"


def test_the_error_branch_takes_over(engine: WorkflowEngine) -> None:
    wf = flow([{"id": "bad", "type": "tool", "tool": "calculator",
                "args": {"expression": "'2 ** '"}},
               {"id": "ok", "type": "template", "template": "fine"},
               {"id": "oops", "type": "template", "template": "fallback: {{ bad.error }}"},
               {"id": "end", "type": "end", "outputs": {"text": "ok.text or oops.text"}}],
              [("start", "bad"), ("bad", "ok"), ("bad", "oops", "error"), ("ok", "end"),
               ("oops", "end")])
    result = engine.run(wf, {"q": "x"})
    assert result.status == "succeeded"
    assert result.outputs["text"].startswith("fallback: calculator:")
    assert result.node("bad").status == "failed" and result.node("ok").status == "skipped"


def test_http_get_post_and_size_limit(engine: WorkflowEngine, site: Site) -> None:
    wf = flow(
        [{"id": "get", "type": "http", "url": site.url + "/json?q={{ start.q | urlencode }}"},
         {"id": "post", "type": "http", "method": "POST", "url": site.url + "/echo",
          "headers": {"x-token": "t-{{ start.q }}"}, "body": '{"q": "{{ start.q }}"}'},
         {"id": "end", "type": "end",
          "outputs": {"path": "get.json['path']", "echo": "post.json"}}],
        [("start", "get"), ("start", "post"), ("get", "end"), ("post", "end")])
    result = engine.run(wf, {"q": "a b"})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"path": "/json?q=a%20b",
                              "echo": {"body": '{"q": "a b"}', "auth": "t-a b"}}
    big = flow([{"id": "big", "type": "http", "url": site.url + "/big", "max_bytes": 1000}],
               [("start", "big")])
    result = engine.run(big, {"q": "x"})
    assert result.status == "failed" and "over 1,000 bytes" in (result.error or "")


def test_http_goes_through_the_ssrf_guard(zhiku_home: Any, site: Site) -> None:
    from zhiku.core.settings import Settings

    with Zhiku(Settings(home=zhiku_home, embedder="hashing")) as guarded:
        engine = WorkflowEngine(ZhikuServices(guarded))
        for method in ("GET", "POST"):
            wf = flow([{"id": "h", "type": "http", "method": method, "url": site.url + "/json"}],
                      [("start", "h")])
            result = engine.run(wf, {"q": "x"})
            assert result.status == "failed"
            assert "internal address" in (result.error or ""), method
    assert site.hits == {}


def test_retries_with_back_off(engine: WorkflowEngine, site: Site) -> None:
    wf = flow([{"id": "h", "type": "http", "url": site.url + "/flaky",
                "retry": {"attempts": 3, "backoff_s": 0.05}}], [("start", "h")])
    events: list[WorkflowEvent] = []
    started = time.perf_counter()
    result = engine.run(wf, {"q": "x"}, events.append)
    assert result.status == "succeeded", result.error
    assert time.perf_counter() - started >= 0.05 + 0.1
    assert result.node("h").attempts == 3 and result.node("h").outputs["json"] == {"ok": True}
    assert [e.data["attempt"] for e in events if e.type == "node_retry"] == [1, 2]
    site.hits.clear()
    site.fail_first = 5
    result = engine.run(wf, {"q": "x"})
    assert result.status == "failed" and "HTTP 503" in (result.error or "")
    assert site.hits["/flaky"] == 3


def test_node_and_run_timeouts(engine: WorkflowEngine, site: Site) -> None:
    wf = flow([{"id": "slow", "type": "http", "url": site.url + "/slow?s=3", "timeout_s": 0.3},
               {"id": "late", "type": "template", "template": "timed out: {{ slow.error }}"}],
              [("start", "slow"), ("slow", "late", "error")])
    started = time.perf_counter()
    result = engine.run(wf, {"q": "x"})
    assert time.perf_counter() - started < 2
    assert result.status == "succeeded"
    assert result.node("late").outputs["text"] == "timed out: timed out after 0.3 s"
    whole = flow([{"id": "slow", "type": "http", "url": site.url + "/slow?s=3"}],
                 [("start", "slow")], timeout_s=0.3)
    started = time.perf_counter()
    result = engine.run(whole, {"q": "x"})
    assert time.perf_counter() - started < 2
    assert result.status == "timeout" and result.error == "the run timed out after 0.3 s"


def test_independent_branches_run_at_once(engine: WorkflowEngine, site: Site) -> None:
    wf = flow([{"id": f"s{i}", "type": "http", "url": site.url + "/slow?s=0.4"}
               for i in range(4)], [("start", f"s{i}") for i in range(4)])
    started = time.perf_counter()
    result = engine.run(wf, {"q": "x"})
    assert result.status == "succeeded"
    assert time.perf_counter() - started < 1.2  # one after another: 1.6 s


def test_cancel_stops_the_run(engine: WorkflowEngine, site: Site) -> None:
    wf = flow([{"id": "slow", "type": "http", "url": site.url + "/slow?s=2"}], [("start", "slow")])
    token = CancelToken()
    stream = engine.stream(wf, {"q": "x"}, token)
    for event in stream:
        if event.type == "node_started" and event.node_id == "slow":
            token.cancel()
    assert stream.result is not None and stream.result.status == "cancelled"


def test_templates_are_sandboxed(engine: WorkflowEngine) -> None:
    wf = flow([{"id": "t", "type": "template",
                "template": "{{ start.q.__class__.__mro__[1].__subclasses__() }}"}],
              [("start", "t")])
    result = engine.run(wf, {"q": "x"})
    assert result.status == "failed" and "unsafe" in (result.error or "")
    wf = flow([{"id": "t", "type": "template", "template": "{{ start.q }}"}], [("start", "t")])
    result = engine.run(wf, {"q": "{{ 7 * 7 }} {% raw %}"})
    assert result.node("t").outputs["text"] == "{{ 7 * 7 }} {% raw %}"


def test_assignments_keep_declared_types(engine: WorkflowEngine) -> None:
    wf = flow([{"id": "set", "type": "assign",
                "assignments": [{"variable": "n", "value": "start.q + '!'"}]}],
              [("start", "set")], variables={"n": {"type": "integer", "default": 0}})
    result = engine.run(wf, {"q": "x"})
    assert result.status == "failed"
    assert result.error == "node set failed: variable 'n' is of type integer, not str"


def test_builtin_tools_refuse_bad_arguments(engine: WorkflowEngine) -> None:
    for tool, args, message in (
        ("calculator", {"expression": "'__import__(\\'os\\')'"}, "calculator:"),
        ("calculator", {"expression": "'x + 1'"}, "calculator:"),
        ("current_time", {"timezone": "'Mars/Olympus'"}, "unknown time zone"),
    ):
        wf = flow([{"id": "t", "type": "tool", "tool": tool, "args": args}], [("start", "t")])
        result = engine.run(wf, {"q": "x"})
        assert result.status == "failed" and message in (result.error or ""), tool
