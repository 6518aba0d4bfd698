"""Property: on random valid DAGs of template, assign and condition nodes, every node that
should run (reached through taken edges) runs exactly once, after every parent that ran, and
every other node is skipped."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhiku.workflows.engine import WorkflowEngine
from zhiku.workflows.schema import load
from zhiku.workflows.validate import validate


@st.composite
def dags(draw: st.DrawFn) -> dict[str, Any]:
    """Nodes n1..nk after ``start``; each has 1-3 parents among earlier nodes; a condition's
    edges leave by ``yes`` or ``else``; its case is a constant truth value."""
    count = draw(st.integers(1, 14))
    ids = ["start"] + [f"n{i}" for i in range(1, count + 1)]
    kinds: dict[str, str] = {"start": "start"}
    truth: dict[str, bool] = {}
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start",
                                    "inputs": [{"name": "q"}]}]
    edges: list[dict[str, str]] = []
    for i, nid in enumerate(ids[1:], start=1):
        kind = draw(st.sampled_from(["template", "assign", "condition"]))
        kinds[nid] = kind
        parents = draw(st.lists(st.sampled_from(ids[:i]), min_size=1, max_size=3, unique=True))
        for p in parents:
            handle = draw(st.sampled_from(["yes", "else"])) if kinds[p] == "condition" else "out"
            edges.append({"source": p, "target": nid, "handle": handle})
        if kind == "template":
            nodes.append({"id": nid, "type": "template", "template": nid + " {{ start.q }}"})
        elif kind == "assign":
            nodes.append({"id": nid, "type": "assign",
                          "assignments": [{"variable": "last", "value": f"'{nid}'"}]})
        else:
            truth[nid] = draw(st.booleans())
            nodes.append({"id": nid, "type": "condition",
                          "cases": [{"id": "yes", "when": "1 == 1" if truth[nid] else "1 == 0"}]})
    return {"nodes": nodes, "edges": edges, "variables": {"last": {}},
            "_truth": truth, "_kinds": kinds}


def expected_runs(data: dict[str, Any]) -> set[str]:
    """Which nodes should run, worked out independently of the engine (nodes are listed in a
    topological order by construction)."""
    truth, kinds = data["_truth"], data["_kinds"]
    ran = {"start"}
    for node in data["nodes"][1:]:
        for e in data["edges"]:
            if e["target"] != node["id"] or e["source"] not in ran:
                continue
            chosen = ("yes" if truth[e["source"]] else "else") \
                if kinds[e["source"]] == "condition" else "out"
            if e["handle"] == chosen:
                ran.add(node["id"])
                break
    return ran


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=dags())
def test_random_dags_run_each_reachable_node_once_in_order(engine: WorkflowEngine,
                                                           data: dict[str, Any]) -> None:
    definition = {k: v for k, v in data.items() if not k.startswith("_")}
    wf = validate(load(definition))
    result = engine.run(wf, {"q": "x"})
    assert result.status == "succeeded", result.error
    should = expected_runs(data)
    ran = [n.node_id for n in result.nodes if n.status == "succeeded"]
    assert sorted(ran) == sorted(should)  # each exactly once
    assert {n.node_id for n in result.nodes if n.status == "skipped"} == \
        {n["id"] for n in data["nodes"]} - should
    position = {nid: i for i, nid in enumerate(ran)}
    for e in data["edges"]:
        if e["target"] in position and e["source"] in position:
            assert position[e["source"]] < position[e["target"]]
    for nid in ran:
        if data["_kinds"][nid] == "template":
            assert result.node(nid).outputs["text"] == f"{nid} x"
