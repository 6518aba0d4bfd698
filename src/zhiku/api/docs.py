"""The interactive API docs at ``/docs``: Swagger UI 5 (it reads OpenAPI 3.1) served from the
files the ``fastapi-offline`` package ships, so the page loads nothing from other hosts and runs
no inline script (its start-up code is a file of its own)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Zhiku API</title>
<link rel="icon" href="{ASSETS}/favicon.png">
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<script src="{ASSETS}/swagger-ui-bundle.js" defer></script>
<script src="/docs/start.js" defer></script>
</head>
<body><div id="swagger-ui"></div></body>
</html>
"""

_START = """window.addEventListener("DOMContentLoaded", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""


def mount_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (the page), ``/docs/start.js`` and the Swagger UI files."""
    static = files("fastapi_offline") / "static"

    @app.get("/docs", include_in_schema=False, response_model=None)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(_PAGE, headers={"Cache-Control": "no-cache"})

    @app.get("/docs/start.js", include_in_schema=False, response_model=None)
    def docs_start() -> Response:
        return Response(_START, media_type="text/javascript")

    app.mount(ASSETS, StaticFiles(directory=str(static)), name="docs-assets")
