"""Node executors, one per node type: ``run(node, ctx) -> NodeResult``."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from zhiku.workflows.nodes.base import NodeContext, NodeResult

Executor = Callable[[Any, NodeContext], NodeResult]

INLINE = frozenset({"template", "assign", "condition", "end", "answer"})
"""Node types that only compute over names: run in the scheduler's thread, no pool hop."""


@cache
def executor(node_type: str) -> Executor:
    """The executor of ``node_type`` (modules with I/O are imported on first use)."""
    from zhiku.workflows.nodes import logic

    table: dict[str, Executor] = {
        "template": logic.run_template, "assign": logic.run_assign,
        "condition": logic.run_condition, "end": logic.run_end, "answer": logic.run_answer,
    }
    if node_type in table:
        return table[node_type]
    if node_type in ("knowledge", "answer_grounded"):
        from zhiku.workflows.nodes import knowledge

        found: Executor = (knowledge.run_knowledge if node_type == "knowledge"
                           else knowledge.run_answer_grounded)
        return found
    if node_type in ("llm", "classifier", "extractor"):
        from zhiku.workflows.nodes import llm

        models: dict[str, Executor] = {"llm": llm.run_llm, "classifier": llm.run_classifier,
                                       "extractor": llm.run_extractor}
        return models[node_type]
    if node_type == "http":
        from zhiku.workflows.nodes.http import run_http

        return run_http
    if node_type == "tool":
        from zhiku.workflows.nodes.tool import run_tool

        return run_tool
    if node_type == "iteration":
        from zhiku.workflows.nodes.iteration import run_iteration

        return run_iteration
    raise KeyError(node_type)
