"""Sources: the folders, sites and stores a knowledge base is synced from, and their runs, over
``zk.sources``.

Reading a source takes read access to its knowledge base; adding, changing, removing and
syncing one take write access, like the knowledge base's other changes. Secrets are stored
encrypted and never returned (a source lists their names). A folder source added here must lie
under one of the server's ``sources_folder_roots``; every web request goes through the URL
guard.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from zhiku.accounts.principal import Level, Principal
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Deleted, Id, Request
from zhiku.connectors.store import Source
from zhiku.core.jsonbounds import BoundedJson
from zhiku.service import Zhiku

router = APIRouter(tags=["sources"], responses=ERRORS)
Secrets = dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=10_000)]]


class SourceIn(Request):
    """A new source: its kind's settings in ``config``, its secrets apart (never returned)."""

    name: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=64)
    config: BoundedJson = Field(default_factory=dict)
    secrets: Secrets = Field(default_factory=dict)
    schedule: str | None = Field(default=None, max_length=200,
                                 description="cron expression (UTC), e.g. '0 3 * * *'")
    max_delete_share: float | None = Field(default=None, ge=0, le=1)
    enabled: bool = True


class SourcePatch(Request):
    """Changes: ``config`` is merged into the settings, ``secrets`` replace the stored ones,
    ``schedule`` null stops scheduled runs."""

    config: BoundedJson | None = None
    secrets: Secrets | None = None
    schedule: str | None = Field(default=None, max_length=200)
    max_delete_share: float | None = Field(default=None, ge=0, le=1)
    enabled: bool | None = None


class SyncIn(Request):
    """How to run: ``allow_deletes`` removes vanished items' documents past the limit."""

    allow_deletes: bool = False


def _by_id(zk: Zhiku, caller: Principal, source_id: int, level: Level) -> Source:
    source = zk.sources.get(source_id)
    caller.check_kb(source.kb, level)
    return source


def _who(caller: Principal) -> str:
    return f"key:{caller.key_id}" if caller.key_id is not None else f"user:{caller.user_id}"


@router.get("/v1/source-kinds")
def source_kinds(caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """The connector kinds this server has: settings schema and secret fields of each."""
    return zk.sources.kinds()


@router.get("/v1/kbs/{kb}/sources")
def list_sources(kb: str, caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """The knowledge base's sources, each with its last run."""
    caller.check_kb(kb)
    out = []
    for source in zk.sources.list(kb):
        runs = zk.sources.store.runs(source.id, 1)
        out.append({**source.to_dict(), "last_run": runs[0].to_dict() if runs else None})
    return out


@router.post("/v1/kbs/{kb}/sources", status_code=201)
def add_source(kb: str, body: SourceIn, caller: Caller, zk: Service) -> dict[str, Any]:
    """Add a source (then sync it)."""
    caller.check_kb(kb, Level.WRITE)
    made = zk.sources.add(kb, body.name, body.kind, body.config, body.secrets,
                          schedule=body.schedule, max_delete_share=body.max_delete_share,
                          enabled=body.enabled, created_by=_who(caller), trusted=False)
    return made.to_dict()


@router.get("/v1/kbs/{kb}/sources/{kb_source}")
def get_source(kb: str, kb_source: str, caller: Caller, zk: Service) -> dict[str, Any]:
    """One source (by name or id) with its last run."""
    caller.check_kb(kb)
    source = zk.sources.get(kb_source, kb)
    runs = zk.sources.store.runs(source.id, 1)
    return {**source.to_dict(), "last_run": runs[0].to_dict() if runs else None}


@router.patch("/v1/kbs/{kb}/sources/{kb_source}")
def update_source(kb: str, kb_source: str, body: SourcePatch, caller: Caller,
                  zk: Service) -> dict[str, Any]:
    """Change a source's settings, secrets, schedule, removal limit or whether it runs."""
    caller.check_kb(kb, Level.WRITE)
    changes = body.model_dump(exclude_unset=True)
    return zk.sources.update(kb_source, kb, trusted=False, **changes).to_dict()


@router.delete("/v1/kbs/{kb}/sources/{kb_source}", response_model=Deleted)
def delete_source(kb: str, kb_source: str, caller: Caller, zk: Service,
                  keep_documents: bool = False) -> Deleted:
    """Remove a source and, unless ``keep_documents``, the documents it brought in."""
    caller.check_kb(kb, Level.WRITE)
    zk.sources.remove(kb_source, kb, keep_documents=keep_documents)
    return Deleted()


@router.post("/v1/kbs/{kb}/sources/{kb_source}/sync", status_code=202)
def sync_source(kb: str, kb_source: str, caller: Caller, zk: Service,
                body: SyncIn | None = None) -> dict[str, Any]:
    """Queue a run (409 while one is queued or running); poll its runs or its job."""
    caller.check_kb(kb, Level.WRITE)
    source = zk.sources.get(kb_source, kb)
    run = zk.sources.sync(source.id, allow_deletes=bool(body and body.allow_deletes),
                          requested_by=_who(caller))
    return run.to_dict()


@router.get("/v1/kbs/{kb}/sources/{kb_source}/runs")
def source_runs(kb: str, kb_source: str, caller: Caller, zk: Service,
                limit: Annotated[int, Query(ge=1, le=500)] = 20) -> list[dict[str, Any]]:
    """The source's runs, newest first, with their counts and errors."""
    caller.check_kb(kb)
    return [r.to_dict() for r in zk.sources.runs(kb_source, kb, limit)]


@router.post("/v1/sources/{source_id}/sync", status_code=202)
def sync_by_id(source_id: Id, caller: Caller, zk: Service,
               body: SyncIn | None = None) -> dict[str, Any]:
    """Queue a run of the source with this id."""
    source = _by_id(zk, caller, source_id, Level.WRITE)
    run = zk.sources.sync(source.id, allow_deletes=bool(body and body.allow_deletes),
                          requested_by=_who(caller))
    return run.to_dict()


@router.get("/v1/sources/{source_id}/runs")
def runs_by_id(source_id: Id, caller: Caller, zk: Service,
               limit: Annotated[int, Query(ge=1, le=500)] = 20) -> list[dict[str, Any]]:
    """The runs of the source with this id, newest first."""
    source = _by_id(zk, caller, source_id, Level.READ)
    return [r.to_dict() for r in zk.sources.runs(source.id, limit=limit)]
