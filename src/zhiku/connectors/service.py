"""The sources of a workspace's knowledge bases (``zk.sources``): add, change, list and remove
them, queue and execute sync runs, read the runs.

A source is addressed by id, or by name (with its knowledge base when another knowledge base
has a source of that name). Runs are jobs in the queue: ``sync`` queues one, a worker executes
it (``execute``); ``sync(..., wait=True)`` runs it in this thread when no worker has taken it.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from zhiku.connectors.base import Connector, ConnectorContext, ConnectorSpec
from zhiku.connectors.registry import connector_spec, kinds
from zhiku.connectors.schedule import next_run, sync_job_payload
from zhiku.connectors.store import (
    ACTIVE,
    Counts,
    Source,
    SourceStore,
    SyncRun,
    release_stale,
    set_job,
    start_run,
)
from zhiku.connectors.sync import Checkpoint
from zhiku.connectors.sync import SyncRun as Run
from zhiku.core.errors import Conflict, InvalidInput, NotFound, ZhikuError
from zhiku.ingest.events import IngestListener, IngestReport
from zhiku.ingest.pipeline import GroupLimits, SourceItem, Sweep
from zhiku.models.llm.secrets import SecretBox
from zhiku.store.records import KnowledgeBase

if TYPE_CHECKING:
    from zhiku.service import Zhiku

MAX_ID = 2**63 - 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_UNSET: Any = object()
Runs = list[SyncRun]


def _checked_config(spec: ConnectorSpec, config: dict[str, Any]) -> dict[str, Any]:
    try:
        model = spec.config_model.model_validate(config)
    except ValidationError as exc:
        problems = [f"'{'.'.join(str(p) for p in e['loc']) or 'config'}': {e['msg']}"
                    for e in exc.errors()[:5]]
        raise InvalidInput(f"{spec.kind} source settings: {'; '.join(problems)}") from None
    return model.model_dump(mode="json")


class _Library:
    """The knowledge base a run writes to, through the facade. Documents of a restricted
    source are written restricted to its groups (``groups``; None: unrestricted)."""

    def __init__(self, zk: Zhiku, kb: KnowledgeBase,
                 groups: list[int] | None = None) -> None:
        self._zk = zk
        self._kb = kb
        self._groups = None if groups is None else tuple(groups)

    def ingest(self, items: Iterable[SourceItem], listener: IngestListener,
               sweep: Sweep) -> IngestReport:
        if self._groups is not None:
            items = (replace(item, groups=self._groups) for item in items)
        # One document a write: a source's items come one fetch at a time (the fetch, not the
        # write, sets the pace), and each is recorded done once written, so a crashed sync
        # resumes right after the last item it wrote.
        return self._zk.ingest_items(self._kb.name, items, listener, sweep=sweep,
                                     limits=GroupLimits(documents=1))

    def find(self, source: str) -> int | None:
        doc = self._zk.store.find_document(self._kb.id, source)
        return None if doc is None else doc.id

    def remove(self, document_id: int) -> None:
        self._zk.delete_document(self._kb.name, document_id)


class Sources:
    """Sources and sync runs of one workspace."""

    def __init__(self, zk: Zhiku) -> None:
        self._zk = zk
        self.store = SourceStore(zk.db, zk.workspace_id, SecretBox(zk.settings.home))
        self.last_fetched = 0
        """Items the last run executed by this object fetched and parsed."""

    # -- configuration --------------------------------------------------------------------
    def kinds(self) -> list[dict[str, Any]]:
        """Every connector kind: its description, settings schema and secret fields."""
        out = []
        for kind in sorted(kinds()):
            try:
                spec = connector_spec(kind)
            except (ImportError, ZhikuError) as exc:
                out.append({"kind": kind, "available": False, "error": str(exc)})
                continue
            out.append({"kind": kind, "available": True, "description": spec.description,
                        "secret_fields": list(spec.secret_fields),
                        "config_schema": spec.config_model.model_json_schema()})
        return out

    def add(self, kb: str, name: str, kind: str, config: dict[str, Any] | None = None,
            secrets: dict[str, str] | None = None, *, schedule: str | None = None,
            max_delete_share: float | None = None, enabled: bool = True,
            created_by: str | None = None, trusted: bool = True) -> Source:
        """Add a source to knowledge base ``kb``. ``config`` is checked against the kind's
        settings; ``secrets`` may name only its secret fields (stored encrypted). ``trusted``
        False (the HTTP API): a folder must lie under a ``sources_folder_roots`` folder."""
        target = self._zk.kb(kb)
        if not NAME_RE.match(name):
            raise InvalidInput("a source name is 1-64 letters, digits, '.', '_' or '-', "
                               "starting with a letter or digit")
        spec = connector_spec(kind)
        checked = self._config(spec, config or {}, secrets or {}, trusted)
        share = self._share(max_delete_share)
        due = next_run(schedule) if schedule else None
        made = self.store.add(target.id, name, kind, checked, dict(secrets or {}),
                              schedule=schedule or None, next_run_at=due,
                              max_delete_share=share, enabled=enabled, created_by=created_by)
        self._zk.audit("source.add", "source", made.id, made.name,
                       detail={"kb": kb, "kind": kind, "secret_names": sorted(secrets or {})})
        return made

    def update(self, ref: int | str, kb: str | None = None, *, config: Any = _UNSET,
               secrets: Any = _UNSET, schedule: Any = _UNSET, max_delete_share: Any = _UNSET,
               enabled: Any = _UNSET, trusted: bool = True) -> Source:
        """Change a source's settings (``config`` is merged into the current one), secrets
        (replaced), schedule (None: by hand only), removal limit or whether it runs."""
        source = self.get(ref, kb)
        spec = connector_spec(source.kind)
        changes: dict[str, Any] = {}
        if config is not _UNSET or secrets is not _UNSET:
            merged = {**source.config, **(config if config is not _UNSET else {})}
            given = secrets if secrets is not _UNSET else {}
            changes["config"] = self._config(spec, merged, given or {}, trusted)
            if secrets is not _UNSET:
                changes["secrets"] = dict(secrets or {})
        if schedule is not _UNSET:
            changes["schedule"] = schedule or None
            changes["next_run_at"] = next_run(schedule) if schedule else None
        if max_delete_share is not _UNSET:
            changes["max_delete_share"] = self._share(max_delete_share)
        if enabled is not _UNSET:
            changes["enabled"] = bool(enabled)
        updated = self.store.update(source.id, **changes)
        self._zk.audit("source.update", "source", source.id, source.name,
                       detail={"changed": sorted(changes)})
        return updated

    def _config(self, spec: ConnectorSpec, config: dict[str, Any], secrets: dict[str, str],
                trusted: bool) -> dict[str, Any]:
        stray = sorted(set(secrets) - set(spec.secret_fields))
        if stray:
            allowed = ", ".join(spec.secret_fields) or "none"
            raise InvalidInput(f"{spec.kind} sources have no secret {', '.join(stray)} "
                               f"(secret fields: {allowed})")
        leaked = sorted(set(config) & set(spec.secret_fields))
        if leaked:
            raise InvalidInput(f"{', '.join(leaked)} is a secret: pass it as a secret, not a "
                               "setting")
        checked = _checked_config(spec, config)
        if spec.kind == "folder":
            checked["path"] = self._folder(str(checked["path"]), trusted)
        return checked

    def _folder(self, path: str, trusted: bool) -> str:
        if "\x00" in path:
            raise InvalidInput("a folder path has no NUL character")
        folder = Path(path).expanduser()
        if not folder.is_absolute():
            raise InvalidInput("a folder source's path is absolute")
        resolved = folder.resolve()
        if not trusted:
            roots = [Path(r).resolve() for r in self._zk.settings.sources_folder_roots]
            if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
                raise InvalidInput("this folder is not under a folder the server allows "
                                   "sources in (sources_folder_roots)")
        return str(folder)

    def _share(self, share: float | None) -> float | None:
        if share is not None and not 0.0 <= share <= 1.0:
            raise InvalidInput("max_delete_share is between 0 and 1")
        return share

    # -- reading --------------------------------------------------------------------------
    def get(self, ref: int | str, kb: str | None = None) -> Source:
        """A source by id, or by name (within ``kb`` when given)."""
        if isinstance(ref, int) or (ref.isascii() and ref.isdigit()):
            if int(ref) > MAX_ID:
                raise NotFound(f"source {ref} does not exist")
            source = self.store.get(int(ref))
            if kb is not None and source.kb != kb:
                raise NotFound(f"source {ref} does not exist")
            return source
        if kb is not None:
            return self.store.by_name(self._zk.kb(kb).id, ref)
        found = [s for s in self.store.sources() if s.name == ref]
        if not found:
            raise NotFound(f"source '{ref}' does not exist")
        if len(found) > 1:
            raise InvalidInput(f"several knowledge bases have a source '{ref}': name the "
                               "knowledge base")
        return found[0]

    def list(self, kb: str | None = None) -> list[Source]:
        """The sources of ``kb``, or of every knowledge base of the workspace."""
        return self.store.sources(self._zk.kb(kb).id if kb is not None else None)

    def runs(self, ref: int | str, kb: str | None = None, limit: int = 20) -> Runs:
        """A source's runs, newest first."""
        return self.store.runs(self.get(ref, kb).id, limit)

    def run(self, run_id: int) -> SyncRun:
        """One run."""
        return self.store.run(run_id)

    def remove(self, ref: int | str, kb: str | None = None, *,
               keep_documents: bool = False) -> Source:
        """Remove a source, and the documents its items became unless ``keep_documents``;
        ``Conflict`` while it is syncing."""
        source = self.get(ref, kb)
        release_stale(self.store.db, source.id)
        if any(r.status in ACTIVE for r in self.store.runs(source.id, 1)):
            raise Conflict("this source is syncing; cancel its job or wait for it to end")
        if not keep_documents:
            for state in self.store.items(source.id).values():
                if state.document_id is not None:
                    with contextlib.suppress(NotFound):
                        self._zk.delete_document(source.kb, state.document_id)
        self.store.delete(source.id)
        self._zk.audit("source.remove", "source", source.id, source.name,
                       detail={"kept_documents": keep_documents})
        return source

    # -- running --------------------------------------------------------------------------
    def sync(self, ref: int | str, kb: str | None = None, *, allow_deletes: bool = False,
             requested_by: str | None = None, wait: bool = False) -> SyncRun:
        """Queue a run of the source (``Conflict`` when one is queued or running). ``wait``:
        execute it in this thread now (unless a worker takes it first) and return it ended."""
        source = self.get(ref, kb)
        jobs = self._zk.jobs
        release_stale(self.store.db, source.id)
        with self.store.db.write() as conn:
            run_id = start_run(conn, source.id, "manual", requested_by, allow_deletes)
            if run_id is None:
                raise Conflict(f"source '{source.name}' is already being synced")
            payload = sync_job_payload(self._zk.workspace_id, source.kb, source.id, run_id)
            job_id = jobs.queue.enqueue(conn, "sync", source.kb_id, payload,
                                        self._zk.workspace_id)
            set_job(conn, run_id, job_id)
        if not wait:
            jobs.on_queued()
            return self.store.run(run_id)
        from zhiku.jobs.process import Jobs

        Jobs.of(self._zk.settings, self._zk.db, self._zk.runtime).run_here(job_id)
        while (run := self.store.run(run_id)).status in ACTIVE:  # a worker took it first
            time.sleep(0.5)
            release_stale(self.store.db, source.id)
        return run

    def context(self, source: Source | None = None) -> ConnectorContext:
        """What connectors get from this installation's settings; a source also gets a cache
        folder of its own under the home (a Git source keeps its clone there between runs)."""
        s = self._zk.settings
        cache = s.home / "sources" / str(source.id) if source is not None else None
        return ConnectorContext(max_item_bytes=s.max_file_bytes,
                                allowed_hosts=tuple(s.sources_url_allowlist),
                                timeout_s=s.api_url_timeout, cache_dir=cache)

    def open(self, source: Source) -> Connector:
        """An open connector on the source (its secrets decrypted here)."""
        spec = connector_spec(source.kind)
        config = spec.config_model.model_validate(source.config)
        return spec.open(config, self.store.secrets(source.id), self.context(source))

    def execute(self, run_id: int, checkpoint: Checkpoint | None = None, *,
                first_try: bool = True) -> SyncRun:
        """Execute a queued (or interrupted) run and record how it ended; a run that has
        already ended is returned as it is."""
        run = self.store.run(run_id)
        if run.status not in ACTIVE:
            return run
        source = self.store.get(run.source_id)
        self.store.mark_running(run_id)
        try:
            connector = self.open(source)
        except ZhikuError as exc:
            self.store.save(run_id, Counts(), "failed", f"cannot open the source: {exc.message}")
            return self.store.run(run_id)
        except Exception as exc:  # a third-party connector's client error
            self.store.save(run_id, Counts(), "failed",
                            f"cannot open the source: {type(exc).__name__}: {exc}")
            return self.store.run(run_id)
        try:
            share = (source.max_delete_share if source.max_delete_share is not None
                     else self._zk.settings.sources_max_delete_share)
            groups = self._zk.permissions.source_groups(source.id)
            library = _Library(self._zk, self._zk.kb(source.kb), groups)
            sync = Run(self.store, library, source,
                       connector, max_item_bytes=self._zk.settings.max_file_bytes,
                       max_delete_share=share, allow_deletes=run.allow_deletes,
                       checkpoint=checkpoint)
            outcome = sync.execute("none" if first_try else "parsed")
        finally:
            connector.close()
        self.store.save(run_id, outcome.counts, outcome.status, outcome.error)
        self.last_fetched = outcome.fetched
        return self.store.run(run_id)
