"""Which apps share links reach: published assistants, agents and chat-shaped workflows (a
workflow whose one text input takes the visitor's message), found through ``zk.apps``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhiku.apps.slugs import APP_TABLES
from zhiku.core.errors import InvalidInput, NotFound
from zhiku.share.links import AppRef

if TYPE_CHECKING:
    from zhiku.apps.catalog import Apps
    from zhiku.store.db import Database

KINDS = ("assistant", "workflow", "agent")


def resolve_app(apps: Apps, db: Database, workspace_id: int, kind: str, slug: str) -> AppRef:
    """The app ``kind``/``slug`` among a workspace's ``apps`` (``NotFound``; ``InvalidInput``
    for another kind, or a workflow that is not chat-shaped)."""
    if kind not in KINDS:
        raise InvalidInput(f"share links reach {', '.join(KINDS)}s only, not {kind}s")
    if apps.kind(slug) != kind:
        raise NotFound(f"{kind} '{slug}' does not exist")
    apps.chat_input(slug)  # a workflow must take the visitor's message
    row = db.conn.execute(
        f"SELECT id FROM {APP_TABLES[kind]} WHERE workspace_id = ? AND slug = ?",
        (workspace_id, slug)).fetchone()
    if row is None:  # deleted meanwhile
        raise NotFound(f"{kind} '{slug}' does not exist")
    return AppRef(kind, int(row["id"]), slug, apps.get(slug).live_version is not None)


def app_by_id(apps: Apps, db: Database, workspace_id: int, kind: str,
              app_id: int) -> AppRef | None:
    """The app a link points at by id among a workspace's ``apps`` (None: deleted, or a kind
    not served)."""
    if kind not in KINDS:
        return None
    row = db.conn.execute(
        f"SELECT slug FROM {APP_TABLES[kind]} WHERE workspace_id = ? AND id = ?",
        (workspace_id, app_id)).fetchone()
    if row is None:
        return None
    try:
        app = apps.get(str(row["slug"]))
    except NotFound:
        return None
    return AppRef(kind, app_id, app.slug, app.live_version is not None)
