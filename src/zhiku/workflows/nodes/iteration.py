"""Iteration: the body once per item of a list, in order or in parallel, bounded."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from zhiku.core.errors import InvalidInput
from zhiku.workflows.nodes.base import NodeContext, NodeResult
from zhiku.workflows.schema import IterationNode


def run_iteration(node: IterationNode, ctx: NodeContext) -> NodeResult:
    """``results``: the body's result per item, in the items' order."""
    items = ctx.evaluate(node.items)
    if items is None:
        items = []
    if not isinstance(items, list | tuple):
        raise InvalidInput(f"iteration items must be a list, not {type(items).__name__}")
    if len(items) > node.max_items:
        raise InvalidInput(f"{len(items)} items is over the iteration's max_items "
                           f"({node.max_items})")

    def one(index: int) -> dict[str, Any]:
        return ctx.sub_run(node.body, {"item": items[index], "index": index}, f"[{index}]")

    if node.parallel and len(items) > 1:
        with ThreadPoolExecutor(min(node.max_parallel, len(items)),
                                thread_name_prefix="zhiku-iter") as pool:
            caller = contextvars.copy_context()  # its reader and audit actor go along
            results = list(pool.map(lambda i: caller.copy().run(one, i), range(len(items))))
    else:
        results = [one(i) for i in range(len(items))]
    return NodeResult({"results": results, "count": len(results)})
