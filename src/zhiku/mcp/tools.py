"""What a workspace offers over MCP: its knowledge bases and its published apps as tools.

Every tool runs through the facade of the caller's workspace and checks the caller's scope
exactly as the HTTP API does: a key limited to some knowledge bases or assistants sees and
reaches only those (and no workflow or agent, as ``/v1/apps``). Published apps are tools when
a chat can run them: every assistant and agent, and each chat-shaped workflow (one text
input). Tool results are JSON; text from documents stays data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zhiku.accounts.principal import Principal
from zhiku.core.errors import Forbidden, InvalidInput, NotFound, RunFailed
from zhiku.permissions.context import reading_as
from zhiku.permissions.resolution import reader_for

if TYPE_CHECKING:
    from zhiku.answer.types import Answer
    from zhiku.apps.running import AppResult
    from zhiku.retrieval.types import Hit
    from zhiku.service import Zhiku
    from zhiku.workflows.schema import Workflow

APP_PREFIX = "app_"


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchArgs(_Args):
    """Search knowledge bases (default: every one the caller may read)."""

    query: str = Field(min_length=1, max_length=4000)
    knowledge_bases: list[str] | None = Field(default=None, max_length=32)
    top_k: int = Field(default=5, ge=1, le=50)
    mode: Literal["hybrid", "keyword", "vector", "local", "global", "mix"] = "hybrid"


class AskArgs(_Args):
    """Answer a question from knowledge bases, with numbered citations, or refuse."""

    question: str = Field(min_length=1, max_length=4000)
    knowledge_bases: list[str] | None = Field(default=None, max_length=32)
    top_k: int = Field(default=5, ge=1, le=20)


class NoArgs(_Args):
    """No arguments."""


class ListDocumentsArgs(_Args):
    """The documents of one knowledge base."""

    knowledge_base: str = Field(min_length=1, max_length=128)
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class GetChunkArgs(_Args):
    """One chunk of a knowledge base, by the id a search hit or citation gave."""

    knowledge_base: str = Field(min_length=1, max_length=128)
    chunk_id: int = Field(ge=1)


class AppArgs(_Args):
    """Ask a published assistant: its model, knowledge bases and rules answer."""

    question: str = Field(min_length=1, max_length=4000)


class QueryArgs(_Args):
    """Run a published agent on one message."""

    query: str = Field(min_length=1, max_length=4000)


class InputsArgs(_Args):
    """A workflow's declared inputs, checked by the workflow itself (``input_schema`` of the
    tool says which)."""

    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True, slots=True)
class Tool:
    """One MCP tool: its name, what it does, its argument schema and its handler."""

    name: str
    description: str
    args: type[_Args]
    run: Callable[[Any], Any]
    read_only: bool = True
    schema: dict[str, Any] | None = None

    def input_schema(self) -> dict[str, Any]:
        """The JSON schema of the tool's arguments (``schema`` when given)."""
        return self.schema if self.schema is not None else self.args.model_json_schema()

    def call(self, arguments: dict[str, Any] | None) -> Any:
        """Validate ``arguments`` and run the tool; bad arguments are ``InvalidInput``."""
        try:
            parsed = self.args.model_validate(arguments or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidInput(f"{self.name}: {problems}") from None
        return self.run(parsed)


def _hit(hit: Hit, kbs: dict[int, str]) -> dict[str, Any]:
    return {
        "chunk_id": hit.chunk_id,
        "document_id": hit.document_id,
        "knowledge_base": kbs.get(hit.kb_id),
        "source": hit.source,
        "title": hit.title,
        "location": hit.location,
        "text": hit.text,
        "score": round(hit.score, 6),
        "relevance": round(hit.relevance, 4),
    }


_JSON_TYPES = {"string": "string", "number": "number", "integer": "integer",
               "boolean": "boolean", "object": "object", "list": "array"}


def workflow_schema(wf: Workflow) -> dict[str, Any]:
    """The JSON schema of a workflow's declared inputs (required: those without a default)."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for spec in wf.start.inputs if wf.start else []:
        prop: dict[str, Any] = {}
        if spec.type in _JSON_TYPES:
            prop["type"] = _JSON_TYPES[spec.type]
        if spec.description:
            prop["description"] = spec.description
        if spec.default is not None:
            prop["default"] = spec.default
        elif spec.required:
            required.append(spec.name)
        props[spec.name] = prop
    return {"type": "object", "properties": props, "required": required,
            "additionalProperties": False}


def _app_result(result: AppResult) -> dict[str, Any]:
    """A workflow's or an agent's run as the tool's result (``RunFailed`` unless it
    succeeded)."""
    if result.status != "succeeded":
        raise RunFailed(f"app '{result.app}' {result.status}: {result.error or result.status}")
    return {
        "answer": result.output,
        "refused": result.refused,
        "grounded": result.grounded,
        "citations": [
            {"n": c.get("n"), "source": c.get("source"), "location": c.get("location"),
             "chunk_id": c.get("chunk_id"), "document_id": c.get("document_id"),
             "quote": c.get("quote") or str(c.get("text") or "")[:300]}
            for c in result.citations
        ],
        "run_id": result.run_id,
        "version": result.version,
    }


def _answer(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer.answer,
        "refused": answer.refused,
        "grounded": answer.grounded,
        "citations": [
            {"n": c.n, "source": c.source, "location": c.location, "chunk_id": c.chunk_id,
             "document_id": c.document_id, "quote": c.quote or c.text[:300]}
            for c in answer.citations
        ],
    }


class WorkspaceTools:
    """The tools one caller may use in one workspace."""

    def __init__(self, zk: Zhiku, caller: Principal) -> None:
        self._zk = zk
        self._caller = caller
        self._reader = reader_for(zk.db, caller)  # which documents the key reads

    def _as_caller(self, run: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """``run`` reading as the caller: every search, listing and app run inside sees only
        the documents the key may read."""

        def reading(args: Any) -> Any:
            with reading_as(self._reader):
                return run(args)

        return reading

    def _readable(self, names: list[str] | None) -> list[str]:
        if names is None:
            names = [kb.name for kb in self._zk.list_kbs() if self._caller.may_kb(kb.name)]
        else:
            self._caller.check_kbs(names)
        if not names:
            raise InvalidInput("no knowledge base to search")
        return names

    def list_knowledge_bases(self, _: NoArgs) -> list[dict[str, Any]]:
        """Names and sizes of the knowledge bases the caller may read."""
        out = []
        for kb in self._zk.list_kbs():
            if self._caller.may_kb(kb.name):
                stats = self._zk.store.kb_stats(kb.id)
                out.append({"name": kb.name, "documents": stats.get("documents", 0),
                            "chunks": stats.get("chunks", 0)})
        return out

    def search(self, args: SearchArgs) -> dict[str, Any]:
        """Hits, best first, each with the chunk id ``get_chunk`` takes."""
        names = self._readable(args.knowledge_bases)
        kbs = {kb.id: kb.name for kb in (self._zk.kb(n) for n in names)}
        hits = self._zk.search(names, args.query, top_k=args.top_k, mode=args.mode)
        return {"hits": [_hit(h, kbs) for h in hits]}

    def ask(self, args: AskArgs) -> dict[str, Any]:
        """A cited answer from the knowledge bases, or a refusal when they do not say."""
        names = self._readable(args.knowledge_bases)
        return _answer(self._zk.ask(names, args.question, top_k=args.top_k))

    def list_documents(self, args: ListDocumentsArgs) -> dict[str, Any]:
        """Documents of one knowledge base, oldest first."""
        self._caller.check_kb(args.knowledge_base)
        docs = self._zk.documents(args.knowledge_base)
        page = docs[args.offset : args.offset + args.limit]
        return {
            "total": len(docs),
            "documents": [
                {"id": d.id, "source": d.source, "title": d.title, "status": d.status,
                 "chunks": d.chunk_count, "updated_at": d.updated_at}
                for d in page
            ],
        }

    def get_chunk(self, args: GetChunkArgs) -> dict[str, Any]:
        """The chunk's text and where it sits in its document."""
        self._caller.check_kb(args.knowledge_base)
        kb = self._zk.kb(args.knowledge_base)
        try:
            chunk = self._zk.chunk(kb.name, args.chunk_id)  # only one the key may read
        except NotFound:
            raise NotFound(f"no chunk {args.chunk_id} in knowledge base '{kb.name}'") from None
        return {
            "chunk_id": chunk.id,
            "document_id": chunk.document_id,
            "knowledge_base": kb.name,
            "heading_path": chunk.heading_path,
            "page": chunk.page,
            "text": chunk.text,
        }

    def ask_app(self, slug: str) -> Callable[[AppArgs], dict[str, Any]]:
        """The handler of assistant ``slug``'s tool."""

        def run(args: AppArgs) -> dict[str, Any]:
            self._caller.check_assistant(slug)
            return _answer(self._zk.ask_app(slug, args.question))

        return run

    def _unrestricted(self) -> bool:
        return self._caller.kbs is None and self._caller.assistants is None

    def run_app(self, slug: str, field: str | None) -> Callable[[_Args], dict[str, Any]]:
        """The handler of workflow or agent ``slug``'s tool (``field``: an agent's message
        argument; None: a workflow's declared inputs)."""

        def run(args: _Args) -> dict[str, Any]:
            if not self._unrestricted():  # as /v1/apps: workflows and agents need no name scope
                raise Forbidden("this needs a key not limited to some names")
            inputs = args.model_dump() if field is None else {"query": getattr(args, field)}
            return _app_result(self._zk.apps.run(slug, inputs, endpoint="mcp"))

        return run

    def _app_tools(self) -> list[Tool]:
        """One tool per published chat-shaped workflow and per published agent (none for a
        caller limited to some names)."""
        from zhiku.apps.running import chat_input

        if not self._unrestricted():
            return []
        out = []
        for wf in self._zk.workflows.list():
            if wf.published is None:
                continue
            try:
                chat_input(wf.published)
            except InvalidInput:
                continue
            text = wf.published.description or f"Run the workflow '{wf.name}'"
            out.append(Tool(f"{APP_PREFIX}{wf.slug}",
                            f"{text.rstrip('. ')}; returns its answer with citations.",
                            InputsArgs, self.run_app(wf.slug, None),
                            schema=workflow_schema(wf.published)))
        for agent in self._zk.agents.list():
            if agent.published is None:
                continue
            out.append(Tool(f"{APP_PREFIX}{agent.slug}",
                            f"Ask the agent '{agent.name}' (its instructions, tools and "
                            "knowledge bases); returns its answer with citations.",
                            QueryArgs, self.run_app(agent.slug, "query")))
        return out

    def tools(self) -> list[Tool]:
        """Every tool this caller may use: the knowledge-base tools, then one per published
        app in the caller's scope (assistants, agents, chat-shaped workflows), by slug."""
        tools = [
            Tool("list_knowledge_bases", "List the knowledge bases you may search.", NoArgs,
                 self.list_knowledge_bases),
            Tool("search", "Search knowledge bases (hybrid keyword + vector by default); "
                 "returns passages with their chunk ids.", SearchArgs, self.search),
            Tool("ask", "Answer a question from knowledge bases with numbered citations; "
                 "refuses when they hold no answer.", AskArgs, self.ask),
            Tool("list_documents", "List the documents of a knowledge base.",
                 ListDocumentsArgs, self.list_documents),
            Tool("get_chunk", "Read one chunk (a passage) of a knowledge base by its id.",
                 GetChunkArgs, self.get_chunk),
        ]
        for app in self._zk.list_assistants():
            if app.published is None or not self._caller.may_assistant(app.slug):
                continue
            tools.append(Tool(
                f"{APP_PREFIX}{app.slug}",
                f"Ask the assistant '{app.name}' (its knowledge bases, model and rules); "
                "returns a cited answer or a refusal.",
                AppArgs, self.ask_app(app.slug),
            ))
        apps = self._app_tools()
        return [replace(t, run=self._as_caller(t.run))
                for t in tools + sorted(apps, key=lambda t: t.name)]

    def find(self, name: str) -> Tool:
        """The tool called ``name`` (``NotFound`` when the caller has no such tool)."""
        for tool in self.tools():
            if tool.name == name:
                return tool
        raise NotFound(f"no tool '{name}'")
