"""Request ids: an ASGI middleware.

Each HTTP request gets an id: the caller's ``X-Request-ID`` when it is well-formed, otherwise a
new random one. The id is returned in the response's ``X-Request-ID`` header and set in
``zhiku.core.logging.request_id`` for the request's task (and the worker threads it calls), so
every log line the request causes carries it. Each request runs in its own task with its own
copy of the context, so the id never leaks into another request.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhiku.core.logging import accept_request_id, request_id

HEADER = b"x-request-id"


class RequestId:
    """Give every HTTP request an id, log it with the request and return it to the caller."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers") or () if k.lower() == HEADER), None)
        rid = accept_request_id(given.decode("latin-1") if given is not None else None)
        request_id.set(rid)  # left set: the server's last-chance error log runs after us

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers") or () if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, rid.encode())]}
            await send(message)

        await self.app(scope, receive, with_id)
