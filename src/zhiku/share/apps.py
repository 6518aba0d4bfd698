"""Which apps share links reach, by kind: assistants today. Workflows and agents join by
adding a resolver here (their slug to an ``AppRef``) and a runner for their public chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhiku.core.errors import InvalidInput, NotFound
from zhiku.share.links import AppRef, assistant_ref

if TYPE_CHECKING:
    from zhiku.repositories import AssistantRepository as AssistantStore

KINDS = ("assistant",)


def resolve_app(assistants: AssistantStore, kind: str, slug: str) -> AppRef:
    """The app ``kind``/``slug`` of a workspace (``NotFound``; ``InvalidInput`` for a kind
    that cannot be shared yet)."""
    if kind not in KINDS:
        raise InvalidInput(f"share links reach {', '.join(KINDS)}s only, not {kind}s")
    found = assistants.get(slug)
    if found.slug != slug:
        raise NotFound(f"assistant '{slug}' does not exist")
    return assistant_ref(found)


def app_by_id(assistants: AssistantStore, kind: str, app_id: int) -> AppRef | None:
    """The app a link points at by id (None: deleted, or a kind not served)."""
    if kind not in KINDS:
        return None
    try:
        return assistant_ref(assistants.get_by_id(app_id))
    except NotFound:
        return None
