"""Engine overhead per node: a 50-node workflow of template and condition nodes, run by the
engine, beside the same templates and expressions evaluated in plain Python in the same run.

Overhead per node = (engine run − plain Python run) / nodes, per run; reported as p50/p95 over
``--runs`` interleaved runs (a noisy neighbour hits both alike). Target: p50 ≤ 1 ms per node.

    .venv/bin/python bench/workflow_overhead.py --runs 300
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import percentile, summary_ms, write_result
from zhiku.core.settings import Settings
from zhiku.service import Zhiku
from zhiku.workflows.engine import WorkflowEngine
from zhiku.workflows.refs import Outputs, evaluate, render
from zhiku.workflows.schema import Workflow, load
from zhiku.workflows.services import ZhikuServices
from zhiku.workflows.validate import validate

NODES = 50


def definition(count: int = NODES) -> Workflow:
    """start, then alternating template and condition nodes in a chain; each condition leads
    on by both of its handles, so every node runs."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start",
                                    "inputs": [{"name": "q"}]}]
    edges: list[dict[str, str]] = []
    last_text = "start"
    for i in range(1, count):
        nid = f"n{i}"
        prev = nodes[-1]
        if i % 2:
            source = "start.q" if last_text == "start" else f"{last_text}.text"
            nodes.append({"id": nid, "type": "template",
                          "template": f"{{{{ {source} }}}} {i} {{{{ start.q | upper }}}}"})
            last_text = nid
        else:
            nodes.append({"id": nid, "type": "condition",
                          "cases": [{"id": "long", "when": f"len({last_text}.text) > {i}"}]})
        if prev["type"] == "condition":
            edges += [{"source": prev["id"], "target": nid, "handle": "long"},
                      {"source": prev["id"], "target": nid, "handle": "else"}]
        else:
            edges.append({"source": prev["id"], "target": nid})
    return validate(load({"nodes": nodes, "edges": edges}))


def plain(wf: Workflow, inputs: dict[str, Any]) -> dict[str, Any]:
    """The same work without the engine: each template rendered, each expression evaluated,
    in order, over the same names."""
    names: dict[str, Any] = {"start": Outputs(inputs)}
    for node in wf.nodes[1:]:
        if node.type == "template":
            names[node.id] = Outputs(text=render(node.template, names))
        else:
            branch = next((c.id for c in node.cases if evaluate(c.when, names)), "else")
            names[node.id] = Outputs(branch=branch)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    wf = definition()
    inputs = {"q": "workflow overhead"}
    with tempfile.TemporaryDirectory() as home, \
            Zhiku(Settings(home=Path(home), embedder="hashing")) as zk:
        engine = WorkflowEngine(ZhikuServices(zk))
        for _ in range(20):  # warm caches (compiled templates, parsed expressions)
            engine.run(wf, inputs)
            plain(wf, inputs)
        engine_s: list[float] = []
        plain_s: list[float] = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = engine.run(wf, inputs)
            engine_s.append(time.perf_counter() - started)
            assert result.status == "succeeded" and len(result.nodes) == NODES
            started = time.perf_counter()
            plain(wf, inputs)
            plain_s.append(time.perf_counter() - started)
    per_node_ms = [(e - p) * 1000 / NODES for e, p in zip(engine_s, plain_s, strict=True)]
    payload = {
        "nodes": NODES,
        "runs": args.runs,
        "engine_run": summary_ms(engine_s),
        "plain_python_run": summary_ms(plain_s),
        "overhead_per_node_ms": {
            "p50": round(percentile(per_node_ms, 50), 4),
            "p95": round(percentile(per_node_ms, 95), 4),
        },
        "target_p50_ms": 1.0,
    }
    path = write_result("workflow_overhead", payload)
    print(f"overhead per node p50 {payload['overhead_per_node_ms']['p50']} ms "
          f"(engine run p50 {payload['engine_run']['p50_ms']} ms, plain "
          f"{payload['plain_python_run']['p50_ms']} ms) → {path}")


if __name__ == "__main__":
    main()
