"""Nodes that only compute over names: template, assign, condition, end and answer."""

from __future__ import annotations

from zhiku.core.errors import InvalidInput
from zhiku.workflows.nodes.base import NodeContext, NodeResult
from zhiku.workflows.schema import (
    ELSE,
    AnswerNode,
    AssignNode,
    ConditionNode,
    EndNode,
    TemplateNode,
)


def run_template(node: TemplateNode, ctx: NodeContext) -> NodeResult:
    """The rendered text."""
    return NodeResult({"text": ctx.render(node.template)})


def run_assign(node: AssignNode, ctx: NodeContext) -> NodeResult:
    """Every value first, then all variables set together."""
    values = {a.variable: ctx.evaluate(a.value) for a in node.assignments}
    ctx.variables.set(values)
    return NodeResult({"values": values})


def run_condition(node: ConditionNode, ctx: NodeContext) -> NodeResult:
    """The first case whose expression is true, else ``else``."""
    for case in node.cases:
        if ctx.evaluate(case.when):
            return NodeResult({"branch": case.id}, case.id)
    return NodeResult({"branch": ELSE}, ELSE)


def run_end(node: EndNode, ctx: NodeContext) -> NodeResult:
    """The run's outputs."""
    return NodeResult({key: ctx.evaluate(expr) for key, expr in node.outputs.items()})


def run_answer(node: AnswerNode, ctx: NodeContext) -> NodeResult:
    """The answer text (streamed as one token event) and the citations passed on."""
    text = ctx.render(node.text)
    citations = ctx.evaluate(node.citations) if node.citations else []
    if citations is None:
        citations = []
    if not isinstance(citations, list):
        raise InvalidInput("answer citations must be a list")
    ctx.emit("token", {"text": text})
    if citations:
        ctx.emit("citations", {"citations": citations})
    return NodeResult({"answer": text, "citations": citations})
