"""``zk.apps``: every app of a workspace (assistants, workflows, agents) with one life cycle
and one way to run it.

Life cycle: each app has an editable draft and numbered published versions, one of them live.
``publish`` freezes the draft as the next version and makes it live; ``rollback`` points live
at an earlier published version (no new version is made, the draft stays as it is, and
publishing again freezes the draft as the next number). Slugs are unique across kinds, so a
slug names one app.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from zhiku.apps.history import RunHistory
from zhiku.apps.moderated import blocked_run, moderate_inputs, moderate_run
from zhiku.apps.running import (
    KINDS,
    AppEvent,
    AppKind,
    AppResult,
    AppRun,
    chat_input,
    close_events,
    start_agent,
    start_assistant,
    start_workflow,
)
from zhiku.apps.slugs import APP_TABLES
from zhiku.apps.usage import app_usage
from zhiku.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from zhiku.agents.service import Agents
    from zhiku.chat.accounting import Bucket
    from zhiku.chat.store import Owner
    from zhiku.chat.wiring import LLMServices
    from zhiku.models.llm.types import CancelToken
    from zhiku.releases.service import Releases
    from zhiku.store.db import Database
    from zhiku.workflows.service import Workflows

DraftState = Literal["unpublished", "published", "changed"]
"""``unpublished``: no version yet (runs use the draft); ``published``: the draft is the live
version; ``changed``: the draft differs from the live version."""


class AppHost(Protocol):
    """What the apps need of a workspace: its database and its three kinds of app."""

    db: Database
    workspace_id: int

    @property
    def llm(self) -> LLMServices:
        """Assistants, conversations and the chat engine."""
        ...

    @property
    def workflows(self) -> Workflows:
        """Workflows and their runs."""
        ...

    @property
    def agents(self) -> Agents:
        """Agents and their runs."""
        ...

    @property
    def releases(self) -> Releases:
        """Releases of every app: publishing through the gate, versions with their records."""
        ...

    def rollback_assistant(self, app: str, version: int | None = None) -> int:
        """Make an earlier version of an assistant live."""
        ...


@dataclass(slots=True)
class AppSummary:
    """An app of any kind, as the app list shows it."""

    kind: AppKind
    slug: str
    name: str
    live_version: int | None
    state: DraftState
    created_at: str
    updated_at: str
    draft: dict[str, Any] | None = None
    live: dict[str, Any] | None = None

    def to_dict(self, with_definitions: bool = False) -> dict[str, Any]:
        """JSON-ready form; ``with_definitions``: the draft and live definitions too."""
        out: dict[str, Any] = {
            "kind": self.kind, "slug": self.slug, "name": self.name,
            "live_version": self.live_version, "state": self.state,
            "created_at": self.created_at, "updated_at": self.updated_at,
        }
        if with_definitions:
            out["draft"], out["live"] = self.draft, self.live
        return out


def _state(draft: object, published: object | None) -> DraftState:
    if published is None:
        return "unpublished"
    return "published" if draft == published else "changed"


class Apps:
    """The apps of one workspace."""

    def __init__(self, host: AppHost) -> None:
        self._host = host
        self.history = RunHistory(host.db, host.workspace_id)

    # -- life cycle -----------------------------------------------------------------------
    def kind(self, slug: str) -> AppKind:
        """The kind of the app with this slug (``NotFound`` when none has it)."""
        conn = self._host.db.conn
        for kind in KINDS:
            found = conn.execute(
                f"SELECT 1 FROM {APP_TABLES[kind]} WHERE workspace_id = ? AND slug = ?",
                (self._host.workspace_id, slug),
            ).fetchone()
            if found is not None:
                return kind
        raise NotFound(f"app '{slug}' does not exist")

    def list(self) -> list[AppSummary]:
        """Every app of every kind, by slug."""
        host = self._host
        apps = [self._assistant(a) for a in host.llm.assistants.list()]
        apps += [self._workflow(w) for w in host.workflows.list()]
        apps += [self._agent(a) for a in host.agents.list()]
        return sorted(apps, key=lambda a: (a.slug, a.kind))

    def get(self, slug: str) -> AppSummary:
        """One app, with its draft and live definitions."""
        kind = self.kind(slug)
        if kind == "assistant":
            return self._assistant(self._host.llm.assistants.get(slug), True)
        if kind == "workflow":
            return self._workflow(self._host.workflows.get(slug), True)
        return self._agent(self._host.agents.get(slug), True)

    def versions(self, slug: str) -> builtins.list[dict[str, Any]]:
        """The published versions, newest first: ``version``, ``note``, ``created_at``,
        ``live`` (the one runs use) and ``release`` (None when published unbound)."""
        self.kind(slug)
        live = self.get(slug).live_version
        # with the release record of each (what its publish was checked on, who forced it)
        return [{"version": v["version"], "note": v["note"], "created_at": v["created_at"],
                 "live": v["version"] == live, "release": v.get("release")}
                for v in self._host.releases.versions(slug)]

    def publish(self, slug: str, note: str | None = None, *, force: bool = False,
                reason: str | None = None, actor: str | None = None) -> int:
        """Freeze the draft (checked again) as the next live version; its number. An app
        of any kind bound to an eval set passes the release gate first (``force`` with a
        ``reason`` overrides it, recorded with ``actor``; see ``zk.releases``)."""
        self.kind(slug)
        return self._host.releases.publish(slug, note, force=force, reason=reason, actor=actor)

    def rollback(self, slug: str, version: int | None = None) -> AppSummary:
        """Point live at the earlier published ``version`` (``NotFound`` if it has none such;
        none given: the version before the live one); the app afterwards."""
        if self.kind(slug) == "assistant":
            self._host.rollback_assistant(slug, version)
        else:
            self._host.releases.rollback(slug, version)
        return self.get(slug)

    def delete(self, slug: str) -> None:
        """Delete the app with its versions (a workflow's and an agent's runs go with it; an
        assistant's conversations stay, detached)."""
        kind = self.kind(slug)
        if kind == "assistant":
            self._host.llm.assistants.delete(slug)
        elif kind == "workflow":
            self._host.workflows.delete(slug)
        else:
            self._host.agents.delete(slug)

    # -- runs -----------------------------------------------------------------------------
    def stream(self, slug: str, inputs: Mapping[str, Any], *, owner: Owner | None = None,
               endpoint: str | None = None, cancel: CancelToken | None = None,
               conversation_id: int | None = None) -> AppRun:
        """Run the live version; an iterator of ``AppEvent``s ending with ``done``.
        Inputs: an assistant's or agent's ``query`` (or ``messages``), a workflow's declared
        inputs. An assistant's turn is stored as a conversation owned by ``owner`` (or as the
        next turn of ``conversation_id``; other kinds keep no conversation). The
        workspace's moderation applies to every kind (see ``zhiku.apps.moderated``)."""
        kind = self.kind(slug)
        if kind == "assistant":
            return start_assistant(self._host.llm.engine, slug, inputs, owner=owner,
                                   endpoint=endpoint, cancel=cancel,
                                   conversation_id=conversation_id)
        if conversation_id is not None:
            raise InvalidInput(f"{kind} '{slug}' keeps no conversation to continue")
        moderator = self._host.llm.moderation.moderator()
        if moderator is not None:
            checked = moderate_inputs(moderator, kind, inputs, slug, endpoint)
            if checked is None:
                return blocked_run(moderator, kind, slug, self.get(slug).live_version)
            inputs = checked
        if kind == "workflow":
            run = start_workflow(self._host.workflows, slug, inputs, cancel=cancel)
        else:
            run = start_agent(self._host.agents, slug, inputs, cancel=cancel)
        if owner is not None and owner.share_link_id is not None:
            run = self._claimed(run, kind, owner)
        return run if moderator is None else moderate_run(moderator, run, slug, endpoint)

    def _claimed(self, run: AppRun, kind: AppKind, owner: Owner) -> AppRun:
        """``run``, recording a share link's visitor on the run as soon as it has an id (a
        workflow's at its start, an agent's at its end)."""

        def events() -> Iterator[AppEvent]:
            inner = iter(run)
            claimed = False
            try:
                for event in inner:
                    run_id = event.result.run_id if event.result is not None else \
                        event.data.get("run_id") if event.type == "started" else None
                    if isinstance(run_id, int) and not claimed:
                        self.history.claim(kind, run_id, owner)
                        claimed = True
                    yield event
            finally:
                close_events(inner)

        return AppRun(events())

    def run(self, slug: str, inputs: Mapping[str, Any], *, owner: Owner | None = None,
            endpoint: str | None = None, cancel: CancelToken | None = None) -> AppResult:
        """Run the live version to its end (see ``stream``)."""
        return self.stream(slug, inputs, owner=owner, endpoint=endpoint,
                           cancel=cancel).finish()

    def chat_input(self, slug: str) -> str | None:
        """How a chat message reaches the app: None for an assistant or an agent (they take
        the message), a chat-shaped workflow's one text input; ``InvalidInput`` saying why
        another workflow is not chat-shaped."""
        if self.kind(slug) != "workflow":
            return None
        return chat_input(self._host.workflows.get(slug).live)

    def chat_apps(self) -> builtins.list[AppSummary]:
        """The workflows and agents a chat message can run: every agent, each chat-shaped
        workflow (assistants are listed by their own store)."""
        found = []
        for w in self._host.workflows.list():
            try:
                chat_input(w.live)
            except InvalidInput:
                continue
            found.append(self._workflow(w))
        found += [self._agent(a) for a in self._host.agents.list()]
        return sorted(found, key=lambda a: a.slug)

    def runs(self, slug: str, *, limit: int = 50, offset: int = 0,
             owner: Owner | None = None) -> builtins.list[dict[str, Any]]:
        """The app's runs, newest first (see ``zhiku.apps.history``)."""
        return self.history.runs(self.kind(slug), slug, limit=limit, offset=offset,
                                 owner=owner)

    def get_run(self, slug: str, run_id: int, owner: Owner | None = None) -> dict[str, Any]:
        """One run of the app: the history's shape plus the kind's full record (a workflow's
        node records, an agent's tool calls, an assistant reply's citations)."""
        kind = self.kind(slug)
        out = self.history.run(kind, slug, run_id, owner)
        if kind == "workflow":
            out["nodes"] = self._host.workflows.get_run(run_id)["nodes"]
        elif kind == "agent":
            full = self._host.agents.get_run(run_id)
            out["citations"], out["tool_calls"] = full["citations"], full["tool_calls"]
        else:
            out["citations"] = self._host.llm.conversations.message(run_id).citations
        return out

    def usage(self, slug: str | None = None, *, bucket: Bucket | None = None,
              since: str | None = None, until: str | None = None) -> builtins.list[dict[str, Any]]:
        """Requests, tokens, cost and latency per app (``slug``: that app's, which must
        exist), per day or hour ``bucket`` when given (see ``zhiku.apps.usage``)."""
        if slug is not None:
            self.kind(slug)
        return app_usage(self._host.db, self._host.workspace_id, slug, bucket, since, until)

    # -- summaries ------------------------------------------------------------------------
    @staticmethod
    def _assistant(a: Any, full: bool = False) -> AppSummary:
        return AppSummary(
            "assistant", a.slug, a.name, a.published_version, _state(a.draft, a.published),
            a.created_at, a.updated_at,
            a.draft.model_dump(mode="json") if full else None,
            a.live.model_dump(mode="json") if full else None)

    @staticmethod
    def _workflow(w: Any, full: bool = False) -> AppSummary:
        return AppSummary(
            "workflow", w.slug, w.name, w.published_version, _state(w.draft, w.published),
            w.created_at, w.updated_at,
            w.draft.model_dump(mode="json", exclude_defaults=True) if full else None,
            w.live.model_dump(mode="json", exclude_defaults=True) if full else None)

    @staticmethod
    def _agent(a: Any, full: bool = False) -> AppSummary:
        return AppSummary(
            "agent", a.slug, a.name, a.published_version, _state(a.draft, a.published),
            a.created_at, a.updated_at,
            a.draft.model_dump(mode="json") if full else None,
            a.live.model_dump(mode="json") if full else None)
