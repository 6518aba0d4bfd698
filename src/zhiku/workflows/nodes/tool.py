"""A tool node: a named tool from the registry, its arguments evaluated as expressions."""

from __future__ import annotations

from zhiku.workflows.nodes.base import NodeContext, NodeResult
from zhiku.workflows.schema import ToolNode


def run_tool(node: ToolNode, ctx: NodeContext) -> NodeResult:
    """The tool's result."""
    tool = ctx.services.tools.get(node.tool)
    args = {key: ctx.evaluate(expr) for key, expr in node.args.items()}
    return NodeResult({"result": tool.call(args)})
