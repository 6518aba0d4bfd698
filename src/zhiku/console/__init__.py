"""The web console: a dependency-free single-page app (ES modules + one CSS file) shipped as
package data and served by the API app at ``/``. It talks to the server only through the public
HTTP API, like any integrator; nothing here is part of the OpenAPI schema."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def mount_console(app: FastAPI) -> None:
    """Serve the console: ``/`` is the page, ``/console/...`` its assets."""

    @app.get("/", include_in_schema=False, response_model=None)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/console", include_in_schema=False, response_model=None)
    def console_root() -> RedirectResponse:
        return RedirectResponse("/")

    app.mount("/console", StaticFiles(directory=STATIC), name="console")
