"""Security headers on every response: an ASGI middleware.

Every page and every JSON answer gets a strict Content-Security-Policy (only the server's own
scripts and styles, no plugins, no framing, no ``<base>``), ``X-Frame-Options: DENY``,
``nosniff`` and no Referer. The API docs page gets a policy that allows Swagger UI's inline
styles; a response that sets its own policy (original files, share-link pages) keeps it, and
one whose policy allows framing (``page_csp``) gets no ``X-Frame-Options``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")


def page_csp(frame_origins: list[str]) -> str:
    """The console's policy for a page that ``frame_origins`` (and this server) may frame."""
    ancestors = " ".join(["'self'", *frame_origins])
    return CONSOLE_CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")

_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """Add the headers to each response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope.get("path") in DOCS_PATHS else CONSOLE_CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                own = [v for k, v in headers if k.lower() == b"content-security-policy"]
                if own and b"frame-ancestors 'self'" in own[0]:
                    present.add(b"x-frame-options")  # framable by the origins it names
                wanted = (*_COMMON, (b"content-security-policy", csp.encode()))
                headers += [(k, v) for k, v in wanted if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
