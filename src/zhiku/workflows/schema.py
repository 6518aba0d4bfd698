"""A workflow definition: one pydantic schema, loaded from and dumped to JSON or YAML.

A definition is a directed acyclic graph of typed nodes. Each node has an identifier (a Python
style name, so references read ``{{ node_id.field }}``), a ``type`` and the config of that type;
edges connect an output handle of one node (``out``, a condition's case, a classifier's class,
or ``error``) to another node.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zhiku.core.errors import InvalidInput
from zhiku.store.filters import SearchFilters

NODE_ID = r"^[a-z_][a-z0-9_]{0,63}$"
ValueType = Literal["string", "number", "integer", "boolean", "object", "list", "any"]
RESERVED_IDS = frozenset({"vars", "item", "index", "error"})
"""Names the engine uses for variables, the iteration item and index, and error handles."""
OUT = "out"
ERROR = "error"
ELSE = "else"


Text = tuple[str, Literal["template", "expression"], str]
"""A template or expression of a node: its field, its kind, its text."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Retry(_Strict):
    """Retries of a failed node, with exponential back-off."""

    attempts: int = Field(default=1, ge=1, le=10, description="tries in all, the first included")
    backoff_s: float = Field(default=0.5, ge=0.0, le=60.0, description="wait before try 2")
    factor: float = Field(default=2.0, ge=1.0, le=10.0)


class _NodeBase(_Strict):
    id: str = Field(pattern=NODE_ID)
    title: str | None = Field(default=None, max_length=200)
    timeout_s: float | None = Field(
        default=None, gt=0, le=3600, description="limit for the node, its retries included"
    )
    retry: Retry = Field(default_factory=Retry)

    def output_types(self) -> dict[str, ValueType]:
        """The outputs this node makes, by name and type."""
        return {}

    def texts(self) -> Iterator[Text]:
        """Every template and expression of this node: (field, kind, text)."""
        return iter(())

    def handles(self) -> set[str]:
        """The handles edges may leave this node by."""
        return {OUT, ERROR}


class InputSpec(_Strict):
    """One declared input of a workflow run (given to the start node)."""

    name: str = Field(pattern=NODE_ID)
    type: ValueType = "string"
    required: bool = True
    default: Any = None
    description: str | None = None


class StartNode(_NodeBase):
    """The entry point; its outputs are the run's inputs."""

    type: Literal["start"]
    inputs: list[InputSpec] = Field(default_factory=list)

    def output_types(self) -> dict[str, ValueType]:
        return {i.name: i.type for i in self.inputs}


class KnowledgeNode(_NodeBase):
    """Retrieval from knowledge bases; ``query`` is a template."""

    type: Literal["knowledge"]
    knowledge_bases: list[str] = Field(min_length=1)
    query: str
    mode: Literal["hybrid", "keyword", "vector", "local", "global", "mix"] = "hybrid"
    top_k: int = Field(default=8, ge=1, le=200)
    filters: SearchFilters | None = None
    min_relevance: float = Field(default=0.0, ge=0.0, le=1.0)

    def output_types(self) -> dict[str, ValueType]:
        return {"hits": "list", "text": "string", "count": "integer"}

    def texts(self) -> Iterator[Text]:
        yield "query", "template", self.query


class LLMNode(_NodeBase):
    """One model call with a templated prompt; optionally JSON output checked by a schema."""

    type: Literal["llm"]
    model: str = Field(min_length=1, description="provider/model")
    system: str | None = None
    prompt: str
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=1, le=32768)
    json_output: bool = False
    json_schema: dict[str, Any] | None = None
    stream: bool = True

    def output_types(self) -> dict[str, ValueType]:
        out: dict[str, ValueType] = {"text": "string", "reasoning": "string"}
        if self.json_output or self.json_schema is not None:
            out["json"] = "any"
        return out

    def texts(self) -> Iterator[Text]:
        yield "prompt", "template", self.prompt
        if self.system:
            yield "system", "template", self.system


class AnswerGroundedNode(_NodeBase):
    """The grounded answerer over knowledge bases (citations kept); extractive without a model."""

    type: Literal["answer_grounded"]
    knowledge_bases: list[str] = Field(min_length=1)
    question: str
    model: str | None = None
    top_k: int = Field(default=8, ge=1, le=200)
    min_relevance: float = Field(default=0.3, ge=0.0, le=1.0)
    filters: SearchFilters | None = None
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=16, le=32768)
    system_prompt: str | None = None
    refusal_message: str | None = None

    def output_types(self) -> dict[str, ValueType]:
        return {"answer": "string", "citations": "list", "refused": "boolean",
                "grounded": "boolean"}

    def texts(self) -> Iterator[Text]:
        yield "question", "template", self.question


class Case(_Strict):
    """A branch of a condition: taken when ``when`` is true (the first true case wins)."""

    id: str = Field(pattern=NODE_ID)
    when: str = Field(min_length=1)


class ConditionNode(_NodeBase):
    """Branching on safe expressions; edges leave by a case id or ``else``."""

    type: Literal["condition"]
    cases: list[Case] = Field(min_length=1)

    def output_types(self) -> dict[str, ValueType]:
        return {"branch": "string"}

    def texts(self) -> Iterator[Text]:
        for i, case in enumerate(self.cases):
            yield f"cases.{i}.when", "expression", case.when

    def handles(self) -> set[str]:
        return {c.id for c in self.cases} | {ELSE, ERROR}


class ClassifierNode(_NodeBase):
    """Question classifier: the model picks one of ``classes``; edges leave by class id."""

    type: Literal["classifier"]
    model: str = Field(min_length=1)
    input: str
    classes: list[Case] = Field(min_length=2, description="id: branch; when: what it means")
    instructions: str | None = None
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)

    def output_types(self) -> dict[str, ValueType]:
        return {"category": "string"}

    def texts(self) -> Iterator[Text]:
        yield "input", "template", self.input

    def handles(self) -> set[str]:
        return {c.id for c in self.classes} | {ERROR}


class FieldSpec(_Strict):
    """A typed field the extractor fills in."""

    name: str = Field(pattern=NODE_ID)
    type: ValueType = "string"
    description: str = ""
    required: bool = True


class ExtractorNode(_NodeBase):
    """Parameter extractor: the model turns text into typed fields (each an output)."""

    type: Literal["extractor"]
    model: str = Field(min_length=1)
    input: str
    fields: list[FieldSpec] = Field(min_length=1)
    instructions: str | None = None
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)

    def output_types(self) -> dict[str, ValueType]:
        return {f.name: f.type for f in self.fields}

    def texts(self) -> Iterator[Text]:
        yield "input", "template", self.input


class TemplateNode(_NodeBase):
    """A Jinja2 template rendered in a sandbox; output ``text``."""

    type: Literal["template"]
    template: str

    def output_types(self) -> dict[str, ValueType]:
        return {"text": "string"}

    def texts(self) -> Iterator[Text]:
        yield "template", "template", self.template


class Assignment(_Strict):
    """``variable`` gets the value of the expression ``value``."""

    variable: str = Field(pattern=NODE_ID)
    value: str = Field(min_length=1)


class AssignNode(_NodeBase):
    """Sets workflow variables from safe expressions."""

    type: Literal["assign"]
    assignments: list[Assignment] = Field(min_length=1)

    def output_types(self) -> dict[str, ValueType]:
        return {"values": "object"}

    def texts(self) -> Iterator[Text]:
        for i, a in enumerate(self.assignments):
            yield f"assignments.{i}.value", "expression", a.value


class IterationNode(_NodeBase):
    """Runs ``body`` once per item of the list ``items`` (an expression); output ``results``.

    Inside the body, ``item`` and ``index`` name the current element and its position, and
    references to nodes of the enclosing workflow are allowed."""

    type: Literal["iteration"]
    items: str = Field(min_length=1)
    body: Workflow
    max_items: int = Field(default=100, ge=1, le=10_000)
    parallel: bool = False
    max_parallel: int = Field(default=4, ge=1, le=32)

    def output_types(self) -> dict[str, ValueType]:
        return {"results": "list", "count": "integer"}

    def texts(self) -> Iterator[Text]:
        yield "items", "expression", self.items


class HttpNode(_NodeBase):
    """An HTTP request through the SSRF guard; ``url``, headers and ``body`` are templates."""

    type: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    request_timeout_s: float = Field(default=10.0, gt=0, le=300)
    max_bytes: int = Field(default=1_000_000, ge=1, le=50_000_000)

    def output_types(self) -> dict[str, ValueType]:
        return {"status": "integer", "body": "string", "json": "any", "headers": "object"}

    def texts(self) -> Iterator[Text]:
        yield "url", "template", self.url
        for key, value in self.headers.items():
            yield f"headers.{key}", "template", value
        if self.body is not None:
            yield "body", "template", self.body


class ToolNode(_NodeBase):
    """A named tool from the registry; each argument is a safe expression."""

    type: Literal["tool"]
    tool: str = Field(min_length=1)
    args: dict[str, str] = Field(default_factory=dict)

    def output_types(self) -> dict[str, ValueType]:
        return {"result": "any"}

    def texts(self) -> Iterator[Text]:
        for key, value in self.args.items():
            yield f"args.{key}", "expression", value


class EndNode(_NodeBase):
    """The run's outputs: each a safe expression. ``answer`` nodes render text instead."""

    type: Literal["end"]
    outputs: dict[str, str] = Field(default_factory=dict)

    def output_types(self) -> dict[str, ValueType]:
        return dict.fromkeys(self.outputs, "any")

    def texts(self) -> Iterator[Text]:
        for key, value in self.outputs.items():
            yield f"outputs.{key}", "expression", value


class AnswerNode(_NodeBase):
    """A final answer rendered from a template (output ``answer``; citations passed on)."""

    type: Literal["answer"]
    text: str
    citations: str | None = Field(default=None, description="expression of a citation list")

    def output_types(self) -> dict[str, ValueType]:
        return {"answer": "string", "citations": "list"}

    def texts(self) -> Iterator[Text]:
        yield "text", "template", self.text
        if self.citations:
            yield "citations", "expression", self.citations


Node = Annotated[
    StartNode | KnowledgeNode | LLMNode | AnswerGroundedNode | ConditionNode | ClassifierNode
    | ExtractorNode | TemplateNode | AssignNode | IterationNode | HttpNode | ToolNode | EndNode
    | AnswerNode,
    Field(discriminator="type"),
]
NODE_TYPES = ("start", "knowledge", "llm", "answer_grounded", "condition", "classifier",
              "extractor", "template", "assign", "iteration", "http", "tool", "end", "answer")


class Edge(_Strict):
    """From ``source``'s ``handle`` (``out``, a case or class id, ``else``, ``error``)."""

    source: str
    target: str
    handle: str = OUT


class Variable(_Strict):
    """A workflow variable, read as ``vars.name`` and set by assign nodes."""

    type: ValueType = "any"
    default: Any = None


class Workflow(_Strict):
    """A workflow definition."""

    version: Literal[1] = 1
    description: str | None = None
    nodes: list[Node] = Field(min_length=1)
    edges: list[Edge] = Field(default_factory=list)
    variables: dict[str, Variable] = Field(default_factory=dict)
    timeout_s: float = Field(default=300.0, gt=0, le=86_400, description="limit for the run")
    max_workers: int = Field(default=8, ge=1, le=64, description="branches run at once")

    def node(self, node_id: str) -> Any:
        """The node called ``node_id`` (KeyError when there is none)."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def start(self) -> StartNode | None:
        """The start node, if there is one."""
        return next((n for n in self.nodes if isinstance(n, StartNode)), None)

    def to_json(self) -> str:
        """The definition as JSON (defaults left out)."""
        return self.model_dump_json(exclude_defaults=True, indent=2)

    def to_yaml(self) -> str:
        """The definition as YAML (defaults left out)."""
        import yaml

        data = self.model_dump(mode="json", exclude_defaults=True)
        return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


IterationNode.model_rebuild()


def load(text: str | bytes | dict[str, Any], fmt: Literal["json", "yaml", "auto"] = "auto"
         ) -> Workflow:
    """Parse a definition from JSON, YAML or a dict; shape errors name the node and field."""
    data: Any = text
    if not isinstance(text, dict):
        raw = text.decode() if isinstance(text, bytes) else text
        data = _parse(raw, fmt)
    if not isinstance(data, dict):
        raise InvalidInput("a workflow definition is a mapping with 'nodes' and 'edges'")
    unknown = [
        Problem(node=str(n.get("id", f"#{i}")), field="type",
                message=f"unknown node type {n.get('type')!r}; one of {', '.join(NODE_TYPES)}")
        for i, n in enumerate(data.get("nodes") or [])
        if isinstance(n, dict) and n.get("type") not in NODE_TYPES
    ]
    if unknown:
        raise WorkflowInvalid(unknown)
    try:
        return Workflow.model_validate(data)
    except ValidationError as exc:
        raise WorkflowInvalid([_problem(data, err) for err in exc.errors()]) from None


def _parse(raw: str, fmt: str) -> Any:
    if fmt == "json" or (fmt == "auto" and raw.lstrip().startswith("{")):
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise InvalidInput(f"the workflow definition is not valid JSON: {exc}") from None
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"the workflow definition is not valid YAML: {exc}") from None


class Problem(BaseModel):
    """One thing wrong with a definition: where (node id and field) and what."""

    node: str | None = None
    field: str | None = None
    message: str

    def __str__(self) -> str:
        where = ".".join(p for p in (self.node, self.field) if p)
        return f"{where}: {self.message}" if where else self.message


class WorkflowInvalid(InvalidInput):
    """A workflow definition with problems; ``problems`` lists them all."""

    kind = "invalid_workflow"

    def __init__(self, problems: list[Problem]) -> None:
        text = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"invalid workflow: {text}{more}",
                         problems=[p.model_dump() for p in problems])
        self.problems = problems


def _problem(data: dict[str, Any], err: Any) -> Problem:
    """A pydantic error as a ``Problem`` naming the node (by id) and the field."""
    loc = list(err.get("loc", ()))
    message = str(err.get("msg", "invalid"))
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        nodes = data.get("nodes") or []
        node = nodes[loc[1]] if loc[1] < len(nodes) else {}
        node_id = str(node.get("id", f"#{loc[1]}")) if isinstance(node, dict) else f"#{loc[1]}"
        rest = [str(p) for p in loc[2:] if p not in NODE_TYPES]
        return Problem(node=node_id, field=".".join(rest) or None, message=message)
    return Problem(field=".".join(str(p) for p in loc) or None, message=message)
