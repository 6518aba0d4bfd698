"""The web console: a dependency-free single-page app (ES modules + one CSS file) shipped as
package data and served by the API app at ``/``. It talks to the server only through the public
HTTP API, like any integrator; nothing here is part of the OpenAPI schema."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from zhiku.console.assets import Asset, ConsoleAssets

STATIC = Path(__file__).parent / "static"
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


def _send(asset: Asset | None, request: Request, cache: str) -> Response:
    """The asset, gzipped when the client takes it; 304 when the client's copy is current."""
    if asset is None:
        return Response(status_code=404)
    headers = {"ETag": asset.etag, "Cache-Control": cache, "Vary": "Accept-Encoding"}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body, headers["Content-Encoding"] = asset.gzipped, "gzip"
    return Response(body, media_type=asset.media_type, headers=headers)


def mount_console(app: FastAPI) -> None:
    """Serve the console: ``/`` is the page, ``/console/v/<version>/...`` its assets (cached for
    good), ``/console/...`` the same files revalidated on each use."""
    assets = ConsoleAssets(STATIC)

    @app.get("/", include_in_schema=False, response_model=None)
    def index(request: Request) -> Response:
        return _send(assets.get("index.html"), request, _REVALIDATE)

    @app.get("/console", include_in_schema=False, response_model=None)
    def console_root() -> RedirectResponse:
        return RedirectResponse("/")

    @app.get("/console/v/{version}/{path:path}", include_in_schema=False, response_model=None)
    def versioned(version: str, path: str, request: Request) -> Response:
        # A page of an older release asking for its modules gets today's, uncached.
        cache = _IMMUTABLE if version == assets.version else _REVALIDATE
        return _send(assets.get(path), request, cache)

    @app.get("/console/{path:path}", include_in_schema=False, response_model=None)
    def unversioned(path: str, request: Request) -> Response:
        return _send(assets.get(path), request, _REVALIDATE)
