"""Save-time checks of a workflow definition; every problem names the node and the field.

Checked: unique ids, one start node, edges between existing nodes and by handles their source
has, cycles, unreachable nodes, references to unknown nodes, outputs or variables (or to nodes
that do not always run before the reader), declared types, and unknown tools.
"""

from __future__ import annotations

from collections import defaultdict, deque

from zhiku.workflows import schema as s
from zhiku.workflows.refs import ExpressionError, iter_refs, simple_ref
from zhiku.workflows.schema import Problem, Workflow, WorkflowInvalid
from zhiku.workflows.tools import ToolRegistry, builtin_tools

ANY: s.ValueType = "any"


def outputs_of(node: s.Node) -> dict[str, s.ValueType]:
    """The outputs a node makes, by name and type (``error`` on every node's error branch)."""
    return {**node.output_types(), "error": "string"}


def order(wf: Workflow) -> list[str] | None:
    """Node ids in a dependency order, or None when the edges make a cycle."""
    done = _kahn(wf)
    return done if len(done) == len(wf.nodes) else None


def _kahn(wf: Workflow) -> list[str]:
    """Node ids in dependency order, as far as no cycle blocks them."""
    indegree = {n.id: 0 for n in wf.nodes}
    after: dict[str, list[str]] = defaultdict(list)
    for e in wf.edges:
        if e.source in indegree and e.target in indegree:
            after[e.source].append(e.target)
            indegree[e.target] += 1
    ready = deque(i for i, d in indegree.items() if d == 0)
    out: list[str] = []
    while ready:
        nid = ready.popleft()
        out.append(nid)
        for t in after[nid]:
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    return out


def ancestors(wf: Workflow) -> dict[str, set[str]]:
    """For each node, every node that has a path to it."""
    before: dict[str, set[str]] = {n.id: set() for n in wf.nodes}
    parents: dict[str, list[str]] = defaultdict(list)
    for e in wf.edges:
        if e.source in before and e.target in before:
            parents[e.target].append(e.source)
    for nid in order(wf) or []:
        for p in parents[nid]:
            before[nid] |= {p} | before[p]
    return before


class Checker:
    """Collects the problems of one definition (and of iteration bodies, with their scope)."""

    def __init__(self, tools: ToolRegistry) -> None:
        self.tools = tools
        self.problems: list[Problem] = []
        self.variables: dict[str, s.Variable] = {}

    def add(self, node: str | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(node=node, field=field, message=message))

    def check(self, wf: Workflow, outer: dict[str, s.Node] | None = None,
              prefix: str = "") -> None:
        """Check ``wf``; ``outer``: nodes of the enclosing workflow a body may read."""
        ids = [n.id for n in wf.nodes]
        if outer is None:
            self.variables = wf.variables
            for var, spec in wf.variables.items():
                if spec.default is not None and not conforms(spec.default, spec.type):
                    self.add(None, f"variables.{var}.default",
                             f"default is not of type {spec.type}")
        by_id: dict[str, s.Node] = {}
        for n in wf.nodes:
            name = prefix + n.id
            if n.id in by_id or (outer and n.id in outer):
                self.add(name, "id", "duplicate node id")
            if n.id in s.RESERVED_IDS:
                self.add(name, "id", f"'{n.id}' is reserved")
            by_id[n.id] = n
        starts = [i for i in ids if isinstance(by_id[i], s.StartNode)]
        if outer is None and len(starts) != 1:
            self.add(None, "nodes", f"a workflow has exactly one start node (found {len(starts)})")
        if outer is not None and starts:
            self.add(prefix + starts[0], "type", "an iteration body has no start node")
        self._edges(wf, by_id, prefix)
        if order(wf) is None:
            self._cycle(wf, prefix)
            return
        self._reachable(wf, by_id, starts, outer is not None, prefix)
        before = ancestors(wf)
        for n in wf.nodes:
            scope = {a: by_id[a] for a in before[n.id]}
            if outer:
                scope.update(outer)
            self._node(wf, n, scope, outer is not None, prefix)

    def _edges(self, wf: Workflow, by_id: dict[str, s.Node], prefix: str) -> None:
        seen: set[tuple[str, str, str]] = set()
        for i, e in enumerate(wf.edges):
            where = f"edges.{i}"
            if e.source not in by_id:
                self.add(None, where, f"edge from missing node '{prefix}{e.source}'")
                continue
            if e.target not in by_id:
                self.add(prefix + e.source, where, f"edge to missing node '{prefix}{e.target}'")
                continue
            if isinstance(by_id[e.target], s.StartNode):
                self.add(prefix + e.target, where, "no edge may lead into the start node")
            if e.handle not in by_id[e.source].handles():
                self.add(prefix + e.source, where,
                         f"no handle '{e.handle}'; one of {sorted(by_id[e.source].handles())}")
            if (e.source, e.target, e.handle) in seen:
                self.add(prefix + e.source, where, f"duplicate edge to '{e.target}'")
            seen.add((e.source, e.target, e.handle))
            if e.source == e.target:
                self.add(prefix + e.source, where, "an edge from a node to itself is a cycle")

    def _cycle(self, wf: Workflow, prefix: str) -> None:
        done = set(_kahn(wf))
        for n in wf.nodes:
            if n.id not in done:
                self.add(prefix + n.id, None, "is on a cycle or after one (a workflow is acyclic)")

    def _reachable(self, wf: Workflow, by_id: dict[str, s.Node], starts: list[str],
                   body: bool, prefix: str) -> None:
        targets = {e.target for e in wf.edges}
        roots = [i for i in by_id if i not in targets] if body else starts
        after: dict[str, list[str]] = defaultdict(list)
        for e in wf.edges:
            if e.target in by_id:
                after[e.source].append(e.target)
        seen = set(roots)
        todo = list(roots)
        while todo:
            for t in after[todo.pop()]:
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        for nid in by_id:
            if nid not in seen and not (body and nid in roots):
                self.add(prefix + nid, None, "is unreachable from the start node")

    def _node(self, wf: Workflow, n: s.Node, scope: dict[str, s.Node], body: bool,
              prefix: str) -> None:
        name = prefix + n.id
        for field, kind, text in n.texts():
            try:
                refs = list(iter_refs(kind, text))
            except ExpressionError as exc:
                self.add(name, field, exc.message)
                continue
            for ref, attr in refs:
                self._ref(wf, name, field, ref, attr, scope, body)
        self._types(wf, n, scope, name)
        self._config(n, name)
        if isinstance(n, s.ToolNode) and n.tool not in self.tools:
            self.add(name, "tool", f"unknown tool '{n.tool}'; one of {self.tools.names()}")
        if isinstance(n, s.IterationNode):
            self.check(n.body, scope, prefix=f"{name}.body.")
        if isinstance(n, s.AssignNode):
            for i, a in enumerate(n.assignments):
                if a.variable not in self.variables:
                    self.add(name, f"assignments.{i}.variable",
                             f"unknown variable '{a.variable}'; declare it under 'variables'")

    def _config(self, n: s.Node, name: str) -> None:
        """Branch ids unique and not reserved, field names unique, JSON schemas well formed."""
        groups: list[tuple[str, list[str]]] = []
        if isinstance(n, s.ConditionNode):
            groups.append(("cases", [c.id for c in n.cases]))
        if isinstance(n, s.ClassifierNode):
            groups.append(("classes", [c.id for c in n.classes]))
        if isinstance(n, s.ExtractorNode):
            groups.append(("fields", [f.name for f in n.fields]))
        for field, ids in groups:
            for i, item in enumerate(ids):
                if item in ids[:i]:
                    self.add(name, f"{field}.{i}", f"duplicate id '{item}'")
                if field != "fields" and item in (s.ELSE, s.ERROR, s.OUT):
                    self.add(name, f"{field}.{i}", f"'{item}' is a reserved handle")
        if isinstance(n, s.LLMNode) and n.json_schema is not None:
            import jsonschema

            try:
                jsonschema.validators.validator_for(n.json_schema).check_schema(n.json_schema)
            except jsonschema.SchemaError as exc:
                self.add(name, "json_schema", f"not a valid JSON schema: {exc.message}")

    def _ref(self, wf: Workflow, name: str, field: str, ref: str, attr: str | None,
             scope: dict[str, s.Node], body: bool) -> None:
        if ref in ("item", "index") and body:
            return
        if ref == "vars":
            if attr is not None and attr not in self.variables:
                self.add(name, field, f"unknown variable 'vars.{attr}'")
            return
        if ref not in scope:
            self.add(name, field, f"unknown reference '{ref}': not a node that runs before "
                     "this one (nor vars, item or index)")
            return
        outputs = outputs_of(scope[ref])
        if attr is not None and attr not in outputs and not isinstance(scope[ref], s.EndNode):
            self.add(name, field, f"'{ref}' has no output '{attr}'; it has {sorted(outputs)}")

    def _types(self, wf: Workflow, n: s.Node, scope: dict[str, s.Node], name: str) -> None:
        if isinstance(n, s.StartNode):
            for i, spec in enumerate(n.inputs):
                if spec.default is not None and not conforms(spec.default, spec.type):
                    self.add(name, f"inputs.{i}.default", f"default is not of type {spec.type}")
        if isinstance(n, s.IterationNode):
            self._expect(n.items, "list", scope, name, "items")
        if isinstance(n, s.AssignNode):
            for i, a in enumerate(n.assignments):
                declared = self.variables.get(a.variable)
                if declared is not None:
                    self._expect(a.value, declared.type, scope, name, f"assignments.{i}.value")

    def _expect(self, expr: str, wanted: s.ValueType, scope: dict[str, s.Node], name: str,
                field: str) -> None:
        """A bare reference whose declared type cannot be ``wanted`` is a type error."""
        try:
            ref = simple_ref(expr)
        except ExpressionError:
            return
        if ref is None or ref[1] is None or ref[0] not in scope:
            return
        have = outputs_of(scope[ref[0]]).get(ref[1], ANY)
        if not compatible(have, wanted):
            self.add(name, field, f"'{expr}' is of type {have}, {wanted} expected")


def compatible(have: s.ValueType, wanted: s.ValueType) -> bool:
    """Whether a value declared ``have`` may be used where ``wanted`` is declared."""
    if ANY in (have, wanted) or have == wanted:
        return True
    return have == "integer" and wanted == "number"


def conforms(value: object, wanted: s.ValueType) -> bool:
    """Whether a run-time value is of the declared type."""
    match wanted:
        case "string":
            return isinstance(value, str)
        case "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        case "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        case "boolean":
            return isinstance(value, bool)
        case "object":
            return isinstance(value, dict)
        case "list":
            return isinstance(value, list)
    return True


def problems(wf: Workflow, tools: ToolRegistry | None = None) -> list[Problem]:
    """Every problem of ``wf`` (empty when it is valid)."""
    checker = Checker(tools or builtin_tools())
    checker.check(wf)
    return checker.problems


def validate(wf: Workflow, tools: ToolRegistry | None = None) -> Workflow:
    """``wf`` when it is valid; otherwise ``WorkflowInvalid`` listing every problem."""
    found = problems(wf, tools)
    if found:
        raise WorkflowInvalid(found)
    return wf
