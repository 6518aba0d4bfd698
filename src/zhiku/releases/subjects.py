"""The apps a release is made of, whatever their kind: an assistant, a workflow or an agent as
one ``Subject`` (its key, slug, draft and live configuration), and the one place that reads,
publishes, rolls back and lists the versions of each kind for ``Releases``."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from zhiku.core.errors import Conflict, InvalidInput
from zhiku.releases.store import AppKey

if TYPE_CHECKING:
    from zhiku.agents.service import Agents
    from zhiku.apps.running import AppKind
    from zhiku.repositories import AssistantRepository
    from zhiku.store.db import Connection
    from zhiku.workflows.service import Workflows

OnPublish = Callable[["Connection", int, int], None]
"""(connection, app id, version): runs inside the publishing transaction."""


@dataclass(slots=True)
class Subject:
    """One app as releases see it: ``draft`` and ``published`` are its configuration (an
    assistant's or agent's settings, a workflow's definition)."""

    kind: AppKind
    id: int
    slug: str
    draft: BaseModel
    published: BaseModel | None
    published_version: int | None

    @property
    def key(self) -> AppKey:
        """The key of its rows in the release tables."""
        return (self.kind, self.id)


def knowledge_bases(config: BaseModel) -> list[str]:
    """Every knowledge base a configuration reads: each ``knowledge_bases`` list in it, at any
    depth (a workflow's retrieval and answer nodes, an assistant's or agent's own)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "knowledge_bases" and isinstance(item, list):
                    found.extend(str(n) for n in item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(config.model_dump(mode="json"))
    return list(dict.fromkeys(found))


class Subjects:
    """The apps of one workspace, by slug, as release subjects."""

    def __init__(self, kind_of: Callable[[str], AppKind], assistants: AssistantRepository,
                 workflows: Callable[[], Workflows], agents: Callable[[], Agents]) -> None:
        self._kind_of = kind_of
        self._assistants = assistants
        self._workflows = workflows
        self._agents = agents

    def get(self, app: str) -> Subject:
        """The app ``app`` (an assistant also by name); ``NotFound`` when none is."""
        kind = self._kind_of(app)
        if kind == "assistant":
            a = self._assistants.get(app)
            return Subject("assistant", a.id, a.slug, a.draft, a.published, a.published_version)
        if kind == "workflow":
            w = self._workflows().get(app)
            return Subject("workflow", w.id, w.slug, w.draft, w.published, w.published_version)
        g = self._agents().get(app)
        return Subject("agent", g.id, g.slug, g.draft, g.published, g.published_version)

    @staticmethod
    def check_chat_shaped(subject: Subject) -> None:
        """``InvalidInput`` for a workflow an eval question cannot run (not one text input)."""
        if subject.kind == "workflow":
            from zhiku.apps.running import chat_input
            from zhiku.workflows.schema import Workflow

            assert isinstance(subject.draft, Workflow)
            chat_input(subject.draft)

    def publish(self, subject: Subject, note: str | None, *, expect: BaseModel | None = None,
                on_publish: OnPublish | None = None) -> int:
        """Freeze the draft as the next live version (``expect``: the draft that was checked,
        a changed one is a ``Conflict``); its number."""
        if subject.kind == "assistant":
            from zhiku.apps.types import AssistantConfig

            assert expect is None or isinstance(expect, AssistantConfig)
            return self._assistants.publish(subject.slug, note, expect=expect,
                                            on_publish=on_publish)
        if subject.kind == "workflow":
            from zhiku.workflows.schema import Workflow

            assert expect is None or isinstance(expect, Workflow)
            return self._workflows().publish(subject.slug, note, expect=expect,
                                             on_publish=on_publish)
        from zhiku.agents.config import AgentConfig

        assert expect is None or isinstance(expect, AgentConfig)
        return self._agents().publish(subject.slug, note, expect=expect, on_publish=on_publish)

    def rollback(self, app: str, version: int | None = None) -> int:
        """Make an earlier version live again (default: the one before the live one); its
        number."""
        subject = self.get(app)
        if subject.kind == "assistant":
            return self._assistants.rollback(subject.slug, version)
        if version is None:
            live = subject.published_version
            if live is None:
                raise Conflict(f"app '{subject.slug}' has no published version")
            earlier = [int(v["version"]) for v in self.versions(subject)
                       if int(v["version"]) < live]
            if not earlier:
                raise Conflict(f"app '{subject.slug}' has no version before v{live}")
            version = max(earlier)
        if subject.kind == "workflow":
            self._workflows().rollback(subject.slug, version)
        else:
            self._agents().rollback(subject.slug, version)
        return version

    def versions(self, subject: Subject) -> builtins.list[dict[str, Any]]:
        """The published versions, newest first (each with ``version``)."""
        if subject.kind == "assistant":
            return self._assistants.versions(subject.slug)
        if subject.kind == "workflow":
            return self._workflows().versions(subject.slug)
        return self._agents().versions(subject.slug)


def not_bound(subject: Subject) -> InvalidInput:
    """The error of an app that has no eval set."""
    return InvalidInput(f"{subject.kind} '{subject.slug}' is not bound to an eval set; "
                        "bind one first")
