"""References between nodes: the syntax, finding them, and evaluating templates and expressions.

Templates (Jinja2, sandboxed) and expressions (``simpleeval``) see the same names:

- ``<node_id>.<output>``: an output of an earlier node, e.g. ``start.question`` or
  ``retrieve.text``; a node skipped by a branch reads as empty (None);
- ``vars.<name>``: a workflow variable;
- ``item`` and ``index``: the element and position inside an iteration's body.

Templates write them inside ``{{ … }}``; expressions (conditions, assignments, tool arguments,
end outputs, iteration items) write them bare: ``start.age >= 18 and vars.tries < 3``.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from simpleeval import EvalWithCompoundTypes, InvalidExpression

from zhiku.core.errors import InvalidInput

Ref = tuple[str, str | None]
"""A reference: a top-level name and, when written, the output or variable read from it."""


class Outputs(dict[str, Any]):
    """A node's outputs; a missing one reads as None (a skipped node has none)."""

    def __missing__(self, key: str) -> None:
        return None


def _contains(container: Any, item: Any) -> bool:
    return container is not None and item in container


FUNCTIONS: dict[str, Any] = {
    "len": len, "str": str, "int": int, "float": float, "bool": bool, "abs": abs,
    "min": min, "max": max, "round": round, "sum": sum, "sorted": sorted,
    "lower": lambda s: str(s).lower(), "upper": lambda s: str(s).upper(),
    "strip": lambda s: str(s).strip(), "contains": _contains,
    "startswith": lambda s, p: str(s).startswith(p), "endswith": lambda s, p: str(s).endswith(p),
}
"""The functions expressions may call; nothing else is callable."""

def _finalize(value: Any) -> Any:
    return "" if value is None else value


_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True, finalize=_finalize)
_ENV_LOCK = threading.Lock()


class ExpressionError(InvalidInput):
    """An expression or template failed to parse or to evaluate."""

    kind = "expression_error"


# -- parsing and finding references -------------------------------------------------------
@lru_cache(maxsize=4096)
def parse_expression(expr: str) -> ast.Expression:
    """The parsed expression (cached); ``ExpressionError`` when it is not one."""
    try:
        return ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not an expression: {exc.msg}") from None


@lru_cache(maxsize=4096)
def expression_refs(expr: str) -> tuple[Ref, ...]:
    """The names an expression reads (functions it calls excluded)."""
    tree = parse_expression(expr)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    attrs: set[int] = set()
    found: list[Ref] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            attrs.add(id(node.value))
            found.append((node.value.id, node.attr))
        elif (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
              and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            attrs.add(id(node.value))
            found.append((node.value.id, node.slice.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in attrs and id(node) not in called:
            found.append((node.id, None))
    comprehension = {t.id for n in ast.walk(tree) if isinstance(n, ast.comprehension)
                     for t in ast.walk(n.target) if isinstance(t, ast.Name)}
    return tuple(r for r in found
                 if r[0] not in comprehension and r[0] not in ("True", "False", "None"))


@lru_cache(maxsize=4096)
def _template_ast(source: str) -> nodes.Template:
    try:
        with _ENV_LOCK:
            return _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"template syntax error (line {exc.lineno}): {exc.message}") from None


@lru_cache(maxsize=4096)
def template_refs(source: str) -> tuple[Ref, ...]:
    """The top-level names a template reads, with the attribute read from each when written."""
    tree = _template_ast(source)
    from jinja2 import meta

    with _ENV_LOCK:
        free = meta.find_undeclared_variables(tree)
    found: list[Ref] = []
    seen_attr: set[str] = set()
    for node in tree.find_all(nodes.Getattr):
        inner = node.node
        if isinstance(inner, nodes.Name) and inner.ctx == "load" and inner.name in free:
            found.append((inner.name, node.attr))
            seen_attr.add(inner.name)
    for item in tree.find_all(nodes.Getitem):
        inner, arg = item.node, item.arg
        if (isinstance(inner, nodes.Name) and inner.name in free
                and isinstance(arg, nodes.Const) and isinstance(arg.value, str)):
            found.append((inner.name, arg.value))
            seen_attr.add(inner.name)
    found.extend((name, None) for name in sorted(free) if name not in seen_attr)
    return tuple(found)


def simple_ref(expr: str) -> Ref | None:
    """``expr`` when it is nothing but one reference (``node.output``), else None."""
    tree = parse_expression(expr).body
    if isinstance(tree, ast.Attribute) and isinstance(tree.value, ast.Name):
        return (tree.value.id, tree.attr)
    if isinstance(tree, ast.Name):
        return (tree.id, None)
    return None


# -- evaluation ---------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _compiled(source: str) -> Any:
    try:
        with _ENV_LOCK:
            return _ENV.from_string(source)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"template syntax error (line {exc.lineno}): {exc.message}") from None


def render(source: str, names: Mapping[str, Any]) -> str:
    """Render a template in the sandbox; values are data (never re-parsed as templates)."""
    try:
        return str(_compiled(source).render(names))
    except ExpressionError:
        raise
    except Exception as exc:  # sandbox violations, undefined calls, type errors in filters
        raise ExpressionError(f"template failed: {type(exc).__name__}: {exc}") from None


def evaluate(expr: str, names: Mapping[str, Any]) -> Any:
    """Evaluate an expression with ``simpleeval`` (no attribute access to dunders, no calls
    but ``FUNCTIONS``, size limits on strings and powers)."""
    evaluator = EvalWithCompoundTypes(names=dict(names), functions=FUNCTIONS)
    try:
        return evaluator.eval(expr.strip(), previously_parsed=parse_expression(expr).body)
    except ExpressionError:
        raise
    except (InvalidExpression, ArithmeticError, TypeError, ValueError, KeyError,
            IndexError, AttributeError) as exc:
        raise ExpressionError(f"expression {expr!r} failed: {exc}") from None


def iter_refs(kind: str, text: str) -> Iterator[Ref]:
    """References of a ``template`` or an ``expression``."""
    yield from (template_refs(text) if kind == "template" else expression_refs(text))
