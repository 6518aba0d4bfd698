"""``zk.workflows``: create, validate, publish and run workflows; read and replay their runs."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zhiku.core.errors import InvalidInput
from zhiku.models.llm.types import CancelToken
from zhiku.workflows.engine import WorkflowEngine, check_inputs
from zhiku.workflows.events import EventSink, WorkflowEvent
from zhiku.workflows.results import RunResult
from zhiku.workflows.schema import Problem, Workflow, WorkflowInvalid, load
from zhiku.workflows.services import Services, ZhikuServices
from zhiku.workflows.store import StoredWorkflow, WorkflowStore
from zhiku.workflows.tools import ToolRegistry
from zhiku.workflows.validate import problems, validate

if TYPE_CHECKING:
    from zhiku.service import Zhiku
    from zhiku.store.db import Connection

def _unrecorded(*args: object, **kwargs: object) -> None:
    """Without a recorder (a bare ``Workflows`` in tests), changes go unrecorded."""


Definition = Workflow | Mapping[str, Any] | str | bytes
"""A definition as a model, a mapping, or JSON/YAML text."""


@dataclass(slots=True)
class StoredRun:
    """A run as recorded: its id and the engine's result."""

    id: int
    result: RunResult

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"id": self.id, **self.result.to_dict()}


def read_definition(path: str | Path) -> Workflow:
    """A definition from a ``.json``, ``.yaml`` or ``.yml`` file (shape-checked only)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from None
    fmt = "json" if file.suffix.lower() == ".json" else "yaml" \
        if file.suffix.lower() in (".yaml", ".yml") else "auto"
    return load(text, fmt)  # type: ignore[arg-type]


class Workflows:
    """The workflows of one workspace."""

    def __init__(self, store: WorkflowStore, services: Services,
                 audit: Callable[..., object] | None = None) -> None:
        """``audit``: the workspace's recorder (``zk.audit``) the changes go to."""
        self.store = store
        self.services = services
        self.engine = WorkflowEngine(services)
        self.audit = audit or _unrecorded

    @classmethod
    def of(cls, zk: Zhiku, tools: ToolRegistry | None = None) -> Workflows:
        """The workflows of ``zk``'s workspace, running on its search, models and settings."""
        db = zk.db
        from zhiku.agents.service import workspace_tools

        return cls(WorkflowStore(db, zk.workspace_id),
                   ZhikuServices(zk, tools or workspace_tools(zk)), zk.audit)

    # -- definitions ----------------------------------------------------------------------
    def parse(self, definition: Definition) -> Workflow:
        """``definition`` as a model (shape-checked, not yet validated)."""
        if isinstance(definition, Workflow):
            return definition
        return load(dict(definition) if isinstance(definition, Mapping) else definition)

    def problems(self, definition: Definition) -> list[Problem]:
        """Every problem of ``definition`` (empty when it is valid)."""
        try:
            wf = self.parse(definition)
        except WorkflowInvalid as exc:
            return exc.problems
        return problems(wf, self.services.tools)

    def validate(self, definition: Definition) -> Workflow:
        """The definition, validated; ``WorkflowInvalid`` lists every problem."""
        return validate(self.parse(definition), self.services.tools)

    def create(self, name: str, definition: Definition, slug: str | None = None
               ) -> StoredWorkflow:
        """A new workflow; its definition is validated first."""
        made = self.store.create(name, self.validate(definition), slug)
        self.audit("workflow.create", "workflow", made.id, made.slug)
        return made

    def update(self, slug: str, definition: Definition | None = None,
               name: str | None = None) -> StoredWorkflow:
        """Replace the draft (validated) and/or rename."""
        wf = None if definition is None else self.validate(definition)
        updated = self.store.update(slug, wf, name)
        self.audit("workflow.update", "workflow", updated.id, updated.slug,
                   detail={"definition": definition is not None, "name": name})
        return updated

    def publish(self, slug: str, note: str | None = None, *, expect: Workflow | None = None,
                on_publish: Callable[[Connection, int, int], None] | None = None) -> int:
        """Freeze the draft as the next live version; returns its number.
        ``expect`` and ``on_publish``: see the store's ``publish``."""
        self.validate(self.store.get(slug).draft)  # tools may have changed since the save
        version = self.store.publish(slug, note, expect=expect, on_publish=on_publish)
        self.audit("workflow.publish", "workflow", None, slug,
                   detail={"version": version, "note": note})
        return version

    def rollback(self, slug: str, version: int) -> None:
        """Make an earlier published version live again."""
        self.store.rollback(slug, version)

    def get(self, slug: str) -> StoredWorkflow:
        """A workflow by slug or name."""
        return self.store.get(slug)

    def list(self) -> list[StoredWorkflow]:
        """Every workflow of the workspace."""
        return self.store.list()

    def delete(self, slug: str) -> None:
        """Delete a workflow with its versions and runs."""
        self.store.delete(slug)
        self.audit("workflow.delete", "workflow", None, slug)

    def versions(self, slug: str) -> builtins.list[dict[str, Any]]:
        """The published versions, newest first."""
        return self.store.versions(slug)

    # -- runs -----------------------------------------------------------------------------
    def run(self, slug: str, inputs: Mapping[str, Any], *, version: int | None = None,
            draft: bool = False, on_event: EventSink | None = None,
            cancel: CancelToken | None = None) -> StoredRun:
        """Run the live version (``version``: a published one; ``draft``: the draft) and
        record it; ``on_event`` receives the events, run events carrying ``run_id``."""
        workflow = self.store.get(slug)
        chosen, number = self._definition(workflow, version, draft)
        return self._run(workflow, chosen, number, inputs, on_event, cancel, None)

    def stream(self, slug: str, inputs: Mapping[str, Any], *, version: int | None = None,
               draft: bool = False, cancel: CancelToken | None = None) -> RunEvents:
        """The run as an iterator of events, recorded like ``run``."""
        workflow = self.store.get(slug)
        chosen, number = self._definition(workflow, version, draft)
        check_inputs(chosen, inputs)
        return RunEvents(lambda sink, token: self._run(workflow, chosen, number, inputs, sink,
                                                       token, None), cancel)

    def replay(self, run_id: int, on_event: EventSink | None = None,
               cancel: CancelToken | None = None) -> StoredRun:
        """Run a recorded run's definition again with its recorded inputs."""
        old = self.store.run(run_id)
        workflow = self.store.get(old["workflow"])
        wf = validate(Workflow.model_validate(old["definition"]), self.services.tools)
        return self._run(workflow, wf, old["version"], old["inputs"], on_event, cancel, run_id)

    def runs(self, slug: str | None = None, limit: int = 50) -> builtins.list[dict[str, Any]]:
        """Recorded runs, newest first."""
        return self.store.runs(slug, limit)

    def get_run(self, run_id: int) -> dict[str, Any]:
        """A recorded run with its node records."""
        return self.store.run(run_id)

    def _definition(self, workflow: StoredWorkflow, version: int | None,
                    draft: bool) -> tuple[Workflow, int | None]:
        if draft and version is not None:
            raise InvalidInput("run the draft or a version, not both")
        if version is not None:
            return self.store.version(workflow.slug, version), version
        if draft or workflow.published is None:
            return workflow.draft, None
        return workflow.published, workflow.published_version

    def _run(self, workflow: StoredWorkflow, wf: Workflow, version: int | None,
             inputs: Mapping[str, Any], on_event: EventSink | None,
             cancel: CancelToken | None, replay_of: int | None) -> StoredRun:
        values = check_inputs(wf, inputs)
        run_id = self.store.start_run(workflow, version, wf, values, replay_of)

        def sink(event: WorkflowEvent) -> None:
            if event.node_id is None:
                event.data["run_id"] = run_id
            if on_event is not None:
                on_event(event)

        try:
            result = self.engine.run(wf, values, sink, cancel)
        except BaseException as exc:
            self.store.fail_run(run_id, f"{type(exc).__name__}: {exc}")
            raise
        self.store.finish_run(run_id, result)
        return StoredRun(run_id, result)


class RunEvents:
    """Iterate for a recorded run's events; ``run`` is set once it has finished."""

    def __init__(self, start: Any, cancel: CancelToken | None) -> None:
        from zhiku.workflows.stream import RunStream

        self.run: StoredRun | None = None

        def started(sink: EventSink, token: CancelToken) -> RunResult:
            self.run = start(sink, token)
            return self.run.result

        self._stream = RunStream(started, cancel)
        self.cancel = self._stream.cancel

    def __iter__(self) -> Iterator[WorkflowEvent]:
        return iter(self._stream)
