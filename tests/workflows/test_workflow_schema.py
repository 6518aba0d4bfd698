"""Workflow definitions: JSON/YAML round trips and save-time validation with named errors."""

from __future__ import annotations

from typing import Any

import pytest

from zhiku.core.errors import InvalidInput
from zhiku.workflows.schema import Workflow, WorkflowInvalid, load
from zhiku.workflows.validate import problems, validate


def _wf(nodes: list[dict[str, Any]], edges: list[tuple[str, str] | tuple[str, str, str]],
        **extra: Any) -> dict[str, Any]:
    return {"nodes": [{"id": "start", "type": "start", "inputs": [{"name": "q"}]}, *nodes],
            "edges": [dict(zip(("source", "target", "handle"), e, strict=False)) for e in edges],
            **extra}


def _problems(data: dict[str, Any]) -> set[str]:
    return {str(p) for p in problems(load(data))}


GOOD = _wf(
    [{"id": "kb", "type": "knowledge", "knowledge_bases": ["hr"], "query": "{{ start.q }}"},
     {"id": "cond", "type": "condition", "cases": [{"id": "found", "when": "kb.count > 0"}]},
     {"id": "say", "type": "template", "template": "{{ kb.text }}"},
     {"id": "none", "type": "template", "template": "nothing for {{ start.q }}"},
     {"id": "end", "type": "end", "outputs": {"text": "say.text or none.text"}}],
    [("start", "kb"), ("kb", "cond"), ("cond", "say", "found"), ("cond", "none", "else"),
     ("say", "end"), ("none", "end")],
)


def test_json_and_yaml_round_trip() -> None:
    wf = validate(load(GOOD))
    assert load(wf.to_json()) == wf
    assert load(wf.to_yaml()) == wf
    assert "type: knowledge" in wf.to_yaml()


def test_shape_errors_name_node_and_field() -> None:
    with pytest.raises(WorkflowInvalid) as caught:
        load(_wf([{"id": "x", "type": "llm", "prompt": "hi"},
                  {"id": "Bad-Id", "type": "template", "template": ""}], []))
    found = {str(p) for p in caught.value.problems}
    assert "x.model: Field required" in found
    assert any(p.startswith("Bad-Id.id:") for p in found)
    assert isinstance(caught.value, InvalidInput)


def test_unknown_node_type_is_named() -> None:
    with pytest.raises(WorkflowInvalid) as caught:
        load(_wf([{"id": "x", "type": "python", "code": "import os"}], [("start", "x")]))
    assert caught.value.problems[0].node == "x"
    assert caught.value.problems[0].field == "type"


def test_not_json_nor_yaml() -> None:
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load('{"nodes": [')
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load("nodes: [\n  - : :")


def test_cycle_is_rejected() -> None:
    found = _problems(_wf([{"id": "a", "type": "template", "template": "x"},
                           {"id": "b", "type": "template", "template": "y"}],
                          [("start", "a"), ("a", "b"), ("b", "a")]))
    assert {"a: is on a cycle or after one (a workflow is acyclic)",
            "b: is on a cycle or after one (a workflow is acyclic)"} == found


def test_edge_into_start() -> None:
    found = _problems(_wf([{"id": "a", "type": "template", "template": "x"}],
                          [("start", "a"), ("a", "start")]))
    assert "start.edges.1: no edge may lead into the start node" in found


def test_edges_handles_and_reachability() -> None:
    found = _problems(_wf(
        [{"id": "a", "type": "template", "template": "x"},
         {"id": "lonely", "type": "template", "template": "y"}],
        [("start", "a", "yes"), ("a", "ghost"), ("nobody", "a")]))
    assert "start.edges.0: no handle 'yes'; one of ['error', 'out']" in found
    assert "a.edges.1: edge to missing node 'ghost'" in found
    assert "edges.2: edge from missing node 'nobody'" in found
    assert "lonely: is unreachable from the start node" in found


def test_unknown_variables_and_outputs() -> None:
    found = _problems(_wf(
        [{"id": "a", "type": "template", "template": "{{ start.nope }} {{ b.text }}"},
         {"id": "b", "type": "template", "template": "{{ ghost }}"},
         {"id": "c", "type": "condition", "cases": [{"id": "y", "when": "vars.missing > 1"}]},
         {"id": "d", "type": "assign", "assignments": [{"variable": "undeclared", "value": "1"}]}],
        [("start", "a"), ("start", "b"), ("a", "c"), ("c", "d", "y")]))
    assert "a.template: 'start' has no output 'nope'; it has ['error', 'q']" in found
    assert any(p.startswith("a.template: unknown reference 'b'") for p in found)
    assert any(p.startswith("b.template: unknown reference 'ghost'") for p in found)
    assert "c.cases.0.when: unknown variable 'vars.missing'" in found
    assert any(p.startswith("d.assignments.0.variable: unknown variable 'undeclared'")
               for p in found)


def test_wrong_types_unknown_tools_and_syntax() -> None:
    found = _problems(_wf(
        [{"id": "a", "type": "template", "template": "{{ start.q "},
         {"id": "it", "type": "iteration", "items": "start.q",
          "body": {"nodes": [{"id": "b", "type": "template", "template": "{{ item }}"}]}},
         {"id": "t", "type": "tool", "tool": "shell", "args": {"cmd": "'ls'"}},
         {"id": "s", "type": "assign", "assignments": [{"variable": "n", "value": "start.q"}]},
         {"id": "e", "type": "condition", "cases": [{"id": "y", "when": "1 +"}]}],
        [("start", "a"), ("start", "it"), ("start", "t"), ("start", "s"), ("start", "e")],
        variables={"n": {"type": "integer", "default": "zero"}}))
    assert any(p.startswith("a.template: template syntax error") for p in found)
    assert "it.items: 'start.q' is of type string, list expected" in found
    assert "t.tool: unknown tool 'shell'; one of ['calculator', 'current_time']" in found
    assert "s.assignments.0.value: 'start.q' is of type string, integer expected" in found
    assert "variables.n.default: default is not of type integer" in found
    assert any(p.startswith("e.cases.0.when: not an expression") for p in found)


def test_iteration_body_scope() -> None:
    found = _problems(_wf(
        [{"id": "it", "type": "iteration", "items": "[1, 2]",
          "body": {"nodes": [{"id": "b", "type": "template",
                              "template": "{{ item }} {{ index }} {{ start.q }} {{ later.text }}"},
                             {"id": "start", "type": "template", "template": "x"}]}},
         {"id": "later", "type": "template", "template": "z"}],
        [("start", "it"), ("it", "later")]))
    assert any(p.startswith("it.body.b.template: unknown reference 'later'") for p in found)
    assert "it.body.start.id: duplicate node id" in found


def test_validate_raises_with_every_problem() -> None:
    wf = Workflow.model_validate(_wf([{"id": "a", "type": "tool", "tool": "x"}], []))
    with pytest.raises(WorkflowInvalid) as caught:
        validate(wf)
    assert {(p.node, p.field) for p in caught.value.problems} == {("a", None), ("a", "tool")}
    assert caught.value.details["problems"]


def test_branch_ids_fields_and_json_schemas() -> None:
    found = _problems(_wf(
        [{"id": "c", "type": "condition", "cases": [{"id": "a", "when": "True"},
                                                    {"id": "a", "when": "False"},
                                                    {"id": "else", "when": "True"}]},
         {"id": "x", "type": "extractor", "model": "p/m", "input": "{{ start.q }}",
          "fields": [{"name": "n"}, {"name": "n"}]},
         {"id": "j", "type": "llm", "model": "p/m", "prompt": "hi",
          "json_schema": {"type": "nonsense"}}],
        [("start", "c"), ("start", "x"), ("start", "j")]))
    assert "c.cases.1: duplicate id 'a'" in found
    assert "c.cases.2: 'else' is a reserved handle" in found
    assert "x.fields.1: duplicate id 'n'" in found
    assert any(p.startswith("j.json_schema: not a valid JSON schema") for p in found)
