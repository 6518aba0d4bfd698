"""The public face of share links: the chat page, a visitor session, and chat, with no API key.

``GET /s/{token}`` serves the chat page (framable only by the link's allowed origins);
``POST /s/{token}/session`` gives a short-lived visitor token bound to the link, its app and
the calling page's origin; ``POST /s/{token}/chat`` runs the app with it (an assistant, an
agent or a chat-shaped workflow; streaming like the assistant chat), and
``POST /s/{token}/feedback`` rates an answer of the visitor's own conversations; nothing else.
``GET /widget.js`` is the embeddable script. Cross-origin calls are answered with CORS headers
for the link's allowed origins only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from zhiku.api.chat.mapper import ChatEvent, app_events, finish
from zhiku.api.deps import State
from zhiku.api.headers import page_csp
from zhiku.api.routers.conversations import ChatIn, ChatOut, chat_out, sse_chat
from zhiku.api.schemas import ERRORS, MAX_ID
from zhiku.api.schemas import Request as Body
from zhiku.api.state import ApiState
from zhiku.chat.store import Owner
from zhiku.console import STATIC
from zhiku.core.errors import Forbidden, NotFound, Unauthorized
from zhiku.models.llm.secrets import SecretBox
from zhiku.permissions.context import identify_reader
from zhiku.permissions.resolution import reader_for_identity
from zhiku.service import Zhiku
from zhiku.share.apps import app_by_id
from zhiku.share.gate import GONE, Identity, ShareGate
from zhiku.share.links import AppRef
from zhiku.share.store import ShareLink, ShareLinkStore
from zhiku.share.tokens import normalize_origin

router = APIRouter(tags=["public share links"], responses=ERRORS)
PAGE = STATIC / "share.html"
WIDGET = STATIC / "widget.js"
NO_STORE = {"Cache-Control": "no-store"}


class SessionIn(Body):
    """Opening a visitor session: the link's ``password`` when it has one; a signed identity
    (``user``, ``exp``: Unix time, ``sig``: hex HMAC-SHA256 of ``"<user>.<exp>"`` under the
    link's signing secret; with the user's display ``name``, of ``"<user>\n<exp>\n<name>"``);
    ``embedded``: the page runs inside the widget."""

    password: str | None = Field(default=None, max_length=200)
    user: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    exp: int | None = Field(default=None, ge=0, le=2**53 - 1)
    sig: str | None = Field(default=None, max_length=128)
    embedded: bool = False


class VisitorFeedbackIn(Body):
    """A visitor's verdict on one of the answers it was given."""

    message_id: int = Field(ge=1, le=MAX_ID)
    rating: Literal["up", "down"]
    comment: str = Field(default="", max_length=2000)


class VisitorFeedbackOut(BaseModel):
    """The verdict as recorded."""

    message_id: int
    rating: int


class SessionOut(BaseModel):
    """A visitor token (send it as ``Authorization: Bearer``) and what the page shows."""

    token: str
    expires_at: int
    channel: str
    title: str
    user: str | None
    name: str | None = None


def gate(state: ApiState) -> ShareGate:
    """The share-link gate over the state's database."""
    runtime = state.runtime

    def app(link: ShareLink) -> AppRef | None:
        zk = runtime.workspace(link.workspace_id)
        return app_by_id(zk.apps, zk.db, zk.workspace_id, link.app_kind, link.app_id)

    return ShareGate(ShareLinkStore(state.db), SecretBox(state.settings.home), app,
                     state.settings.share_visitor_minutes, state.guard.hashing,
                     state.auth.cost)


def page_origin(request: Request) -> str:
    """The calling page's origin, normalized: "" for none or this server's own."""
    raw = request.headers.get("origin")
    if raw is None:
        return ""
    origin = normalize_origin(raw)
    if origin is None:
        raise Forbidden("this page's origin may not use this link")
    host = request.headers.get("host", "").lower()
    return "" if origin.split("://", 1)[1] == host else origin


def address(request: Request) -> str:
    """The client's address (the proxy-resolved one under ``zhiku serve``)."""
    return request.client.host if request.client else "unknown"


def cors(response: Response, link: ShareLink, origin: str) -> None:
    """Let an allowed foreign origin read the answer."""
    response.headers["Vary"] = "Origin"
    if origin and origin in link.allowed_origins:
        response.headers["Access-Control-Allow-Origin"] = origin


@router.get("/s/{token}", include_in_schema=False, response_model=None)
def page(token: str, state: State) -> FileResponse:
    """The public chat page; only the link's allowed origins may frame it. A link that is
    not live gets the same page with status 404 (its script then says the link is gone)."""
    try:
        link = gate(state).resolve(token)
    except NotFound:
        return FileResponse(PAGE, status_code=404, media_type="text/html",
                            headers={**NO_STORE, "Content-Security-Policy": page_csp([])})
    return FileResponse(PAGE, media_type="text/html", headers={
        **NO_STORE, "Content-Security-Policy": page_csp(link.allowed_origins)})


@router.get("/widget.js", include_in_schema=False, response_model=None)
def widget() -> FileResponse:
    """The embeddable script: ``<script src=…/widget.js data-share=TOKEN
    data-mode=bubble|inline>``."""
    return FileResponse(WIDGET, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=300"})


def _preflight(token: str, request: Request, state: ApiState) -> Response:
    response = Response(status_code=204)
    try:
        link = gate(state).resolve(token)
        origin = page_origin(request)
    except (NotFound, Forbidden):
        return response  # no CORS headers: the browser refuses the call
    cors(response, link, origin)
    if "Access-Control-Allow-Origin" in response.headers:
        response.headers.update({
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        })
    return response


@router.options("/s/{token}/session", include_in_schema=False)
def session_preflight(token: str, request: Request, state: State) -> Response:
    """CORS preflight of a session from an allowed origin."""
    return _preflight(token, request, state)


@router.options("/s/{token}/chat", include_in_schema=False)
def chat_preflight(token: str, request: Request, state: State) -> Response:
    """CORS preflight of a chat from an allowed origin."""
    return _preflight(token, request, state)


@router.options("/s/{token}/feedback", include_in_schema=False)
def feedback_preflight(token: str, request: Request, state: State) -> Response:
    """CORS preflight of feedback from an allowed origin."""
    return _preflight(token, request, state)


@router.post("/s/{token}/session", response_model=SessionOut)
def open_session(token: str, body: SessionIn, request: Request, response: Response,
                 state: State) -> SessionOut:
    """A visitor session: 404 for a link that is not live, 403 from an origin that is not
    allowed, 401 with ``needs: password`` when the password is missing or wrong, 401 for a
    forged or expired signed identity, 429 past the link's rate."""
    share = gate(state)
    link = share.resolve(token)
    origin = page_origin(request)
    share.limit(link, address(request))
    identity = None
    if any(v is not None for v in (body.user, body.sig, body.exp, body.name)):
        if body.user is None or body.sig is None or body.exp is None:
            raise Unauthorized("a signed identity needs user, exp and sig")
        identity = Identity(body.user, body.exp, body.sig, body.name)
    visitor, claims = share.open_session(link, origin=origin, password=body.password,
                                         identity=identity, embedded=body.embedded)
    zk = state.runtime.workspace(link.workspace_id)
    app = zk.apps.get(_slug(zk, link))
    cors(response, link, origin)
    response.headers.update(NO_STORE)
    return SessionOut(token=visitor, expires_at=claims.exp, channel=claims.channel,
                      title=app.name or app.slug, user=claims.user or None,
                      name=claims.name or None)


def _slug(zk: Zhiku, link: ShareLink) -> str:
    """The slug of the link's app (``NotFound`` when it went away meanwhile)."""
    app = app_by_id(zk.apps, zk.db, zk.workspace_id, link.app_kind, link.app_id)
    if app is None:
        raise NotFound(GONE)
    return app.slug


def for_visitors(answer: Iterator[ChatEvent]) -> Iterator[ChatEvent]:
    """A chat's events without what only the workspace should see: which provider and model
    answered, and what the answer cost (token counts and time stay)."""
    for event in answer:
        if event.result is not None:
            event.result.model = ""
            event.result.usage = replace(event.result.usage, cost=0.0)
        yield event


@router.post("/s/{token}/chat", response_model=ChatOut,
             responses={200: {"content": {"text/event-stream": {}}}})
def chat(token: str, body: ChatIn, request: Request, response: Response, state: State,
         authorization: Annotated[str | None, Header()] = None) -> ChatOut | StreamingResponse:
    """Ask the link's app with a visitor token (``Authorization: Bearer zkv_…``): an
    assistant, an agent, or a chat-shaped workflow (the message is its one text input), run
    through ``zk.apps``. An assistant's conversation continues only within the visitor
    session that started it (agents and workflows keep none). Counts against the link's rate
    (per address) and daily quota."""
    share = gate(state)
    link = share.resolve(token)
    origin = page_origin(request)
    bearer = (authorization or "").removeprefix("Bearer ").strip()
    claims = share.visitor(link, bearer, origin)
    share.limit(link, address(request))
    zk = state.runtime.workspace(link.workspace_id)
    if claims.user:  # a signed end user reads what that member of the workspace reads
        identify_reader(reader_for_identity(state.runtime.db, link.workspace_id, claims.user))
    if body.conversation_id is not None:
        missing = NotFound(f"conversation {body.conversation_id} does not exist")
        if link.app_kind != "assistant":
            raise missing
        conv = zk.conversation_info(body.conversation_id)
        if conv["share_link_id"] != link.id or conv["visitor"] != claims.visitor:
            raise missing
    slug = _slug(zk, link)
    field = zk.apps.chat_input(slug)
    share.quota(link)
    owner = Owner(channel=claims.channel, share_link_id=link.id, visitor=claims.visitor,
                  external_user=claims.user or None, external_name=claims.name or None)
    run = zk.apps.stream(slug, {field or "query": body.message}, owner=owner,
                         endpoint=claims.channel, conversation_id=body.conversation_id)
    answer = for_visitors(app_events(run))
    if body.stream:
        streamed = StreamingResponse(sse_chat(answer), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        cors(streamed, link, origin)
        return streamed
    cors(response, link, origin)
    return chat_out(finish(answer))


@router.post("/s/{token}/feedback", response_model=VisitorFeedbackOut, status_code=201)
def feedback(token: str, body: VisitorFeedbackIn, request: Request, response: Response,
             state: State, authorization: Annotated[str | None, Header()] = None
             ) -> VisitorFeedbackOut:
    """Thumbs up or down on an answer of this visitor session's conversations (404 for any
    other message); the app's owners see it with the rest of the feedback."""
    share = gate(state)
    link = share.resolve(token)
    origin = page_origin(request)
    claims = share.visitor(link, (authorization or "").removeprefix("Bearer ").strip(), origin)
    share.limit(link, address(request))
    zk = state.runtime.workspace(link.workspace_id)
    missing = NotFound(f"message {body.message_id} does not exist")
    try:
        reply = zk.message(body.message_id)
        conv = zk.conversation_info(reply.conversation_id)
    except NotFound:
        raise missing from None
    if (reply.role != "assistant" or conv["share_link_id"] != link.id
            or conv["visitor"] != claims.visitor):
        raise missing
    rated = zk.rate_reply(body.message_id, body.rating, comment=body.comment,
                          tags=[f"channel:{claims.channel}"])
    cors(response, link, origin)
    return VisitorFeedbackOut(message_id=body.message_id, rating=rated.rating or 0)
