"""Share links of an app (an assistant, an agent or a chat-shaped workflow), for the people
who may change it: create, list, change, rotate, delete. The token (and the identity-signing
secret) is in the answer of create and rotate only; afterwards a link shows the token's last
four characters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level, Principal
from zhiku.api.access import visible_assistant
from zhiku.api.deps import Caller, Service
from zhiku.api.routers.apps import check_app
from zhiku.api.schemas import ERRORS, Deleted, Id, Request
from zhiku.core.errors import NotFound
from zhiku.service import Zhiku
from zhiku.share.links import Issued
from zhiku.share.store import ShareLink

router = APIRouter(tags=["share links"], responses=ERRORS)

Origins = list[str]


class ShareLinkIn(Request):
    """A new link. ``allowed_origins``: web origins (``https://intranet.example``) that may
    embed the chat (frame-ancestors) and call it from their pages (CORS); empty: none but
    this server. ``rate_per_minute``: requests per visitor address a minute; ``daily_quota``:
    answers a day through this link (UTC days)."""

    name: str = Field(default="", max_length=200)
    password: str | None = Field(default=None, min_length=1, max_length=200)
    expires_at: str | None = Field(default=None, max_length=40,
                                   description="ISO-8601 time; none: never")
    rate_per_minute: int = Field(default=20, ge=1, le=10_000)
    daily_quota: int = Field(default=1000, ge=1, le=10_000_000)
    allowed_origins: Origins = Field(default_factory=list, max_length=50)


class ShareLinkPatch(Request):
    """Changes; ``password`` or ``expires_at`` sent as null clear them."""

    name: str | None = Field(default=None, max_length=200)
    enabled: bool | None = None
    password: str | None = Field(default=None, max_length=200)
    expires_at: str | None = Field(default=None, max_length=40)
    rate_per_minute: int | None = Field(default=None, ge=1, le=10_000)
    daily_quota: int | None = Field(default=None, ge=1, le=10_000_000)
    allowed_origins: Origins | None = Field(default=None, max_length=50)


class RotateIn(Request):
    """``signing_secret``: renew the identity-signing secret too."""

    signing_secret: bool = False


class ShareLinkOut(BaseModel):
    """A share link (its token is never shown again; ``token_hint``: its last characters)."""

    id: int
    app_kind: str
    app: str
    name: str
    token_hint: str
    enabled: bool
    has_password: bool
    expires_at: str | None
    rate_per_minute: int
    daily_quota: int
    allowed_origins: list[str]
    created_at: str
    updated_at: str


class IssuedLinkOut(ShareLinkOut):
    """A link with its secrets, shown this once: ``token`` (the page is at ``path``) and the
    ``signing_secret`` for signed user identities (null when it was not renewed)."""

    token: str
    path: str
    signing_secret: str | None


def link_out(link: ShareLink) -> ShareLinkOut:
    """Wire form of a link."""
    data = link.to_dict()
    return ShareLinkOut(app=data.pop("app_slug"), **{k: v for k, v in data.items()
                                                       if k in ShareLinkOut.model_fields})


def issued_out(issued: Issued) -> IssuedLinkOut:
    """Wire form of a link with its secrets."""
    return IssuedLinkOut(**link_out(issued.link).model_dump(), token=issued.token,
                         path=f"/s/{issued.token}", signing_secret=issued.signing_secret)


def _writable_link(zk: Zhiku, caller: Principal, link_id: int) -> ShareLink:
    """A link whose app the caller may change; a link whose app is gone takes an admin whose
    scope is the whole workspace."""
    link = zk.share.get(link_id)
    try:
        check_app(zk, caller, link.app_slug, Level.WRITE)
    except NotFound:
        caller.require(Level.ADMIN)
        if caller.kbs is not None or caller.assistants is not None:
            raise
    return link


@router.get("/v1/assistants/{slug}/share-links", response_model=list[ShareLinkOut])
def list_links(slug: str, caller: Caller, zk: Service) -> list[ShareLinkOut]:
    """The share links of an assistant."""
    visible_assistant(zk, caller, slug, Level.WRITE)
    return [link_out(link) for link in zk.share.list(slug)]


@router.post("/v1/assistants/{slug}/share-links", response_model=IssuedLinkOut,
             status_code=201)
def create_link(slug: str, body: ShareLinkIn, caller: Caller, zk: Service) -> IssuedLinkOut:
    """A new share link to a published assistant (409 before its first publish)."""
    visible_assistant(zk, caller, slug, Level.WRITE)
    return issued_out(zk.share.create(slug, created_by=caller.user_id, **body.model_dump()))


@router.get("/v1/apps/{slug}/share-links", response_model=list[ShareLinkOut])
def list_app_links(slug: str, caller: Caller, zk: Service) -> list[ShareLinkOut]:
    """The share links of an app of any kind."""
    kind = check_app(zk, caller, slug, Level.WRITE)
    return [link_out(link) for link in zk.share.list(slug, kind)]


@router.post("/v1/apps/{slug}/share-links", response_model=IssuedLinkOut, status_code=201)
def create_app_link(slug: str, body: ShareLinkIn, caller: Caller, zk: Service
                    ) -> IssuedLinkOut:
    """A new share link to a published app: an assistant, an agent, or a chat-shaped
    workflow (400 for another workflow, 409 before the app's first publish)."""
    kind = check_app(zk, caller, slug, Level.WRITE)
    return issued_out(zk.share.create(slug, kind=kind, created_by=caller.user_id,
                                      **body.model_dump()))


@router.get("/v1/share-links/{link_id}", response_model=ShareLinkOut)
def get_link(link_id: Id, caller: Caller, zk: Service) -> ShareLinkOut:
    """One share link."""
    return link_out(_writable_link(zk, caller, link_id))


@router.patch("/v1/share-links/{link_id}", response_model=ShareLinkOut)
def update_link(link_id: Id, body: ShareLinkPatch, caller: Caller, zk: Service) -> ShareLinkOut:
    """Enable or disable, set or clear the password or expiry, change limits and origins."""
    _writable_link(zk, caller, link_id)
    changes: dict[str, Any] = {k: getattr(body, k) for k in body.model_fields_set}
    for key in ("name", "enabled", "rate_per_minute", "daily_quota", "allowed_origins"):
        if key in changes and changes[key] is None:
            del changes[key]
    return link_out(zk.share.update(link_id, **changes))


@router.post("/v1/share-links/{link_id}/rotate", response_model=IssuedLinkOut)
def rotate_link(
    link_id: Id, caller: Caller, zk: Service, body: RotateIn | None = None
) -> IssuedLinkOut:
    """A new token: the old URL and every visitor session end at once."""
    _writable_link(zk, caller, link_id)
    renew = body is not None and body.signing_secret
    return issued_out(zk.share.rotate(link_id, signing_secret=renew))


@router.delete("/v1/share-links/{link_id}", response_model=Deleted)
def delete_link(link_id: Id, caller: Caller, zk: Service) -> Deleted:
    """Delete a link (its conversations stay, for the assistant's owners)."""
    _writable_link(zk, caller, link_id)
    zk.share.delete(link_id)
    return Deleted()
