"""``zhiku serve``: the HTTP API under uvicorn, on the embedded default with no other set-up."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        1, min=1, help="Server processes (each runs its own ingestion worker thread)."
    ),
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Start the HTTP API (OpenAPI at /docs and /openapi.json)."""
    import uvicorn

    uvicorn.run(
        "zhiku.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
        server_header=False,
    )
