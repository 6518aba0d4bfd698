"""``zhiku serve``: the HTTP API under uvicorn, on the embedded default with no other set-up.

Each server process runs the background jobs in worker threads (``ZHIKU_API_JOB_THREADS``)
unless ``--no-jobs`` (or ``ZHIKU_API_RUN_JOBS=false``): in server mode separate ``zhiku worker``
processes run them.
"""

from __future__ import annotations

import os

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        1, min=1, help="Server processes (each runs job worker threads unless --no-jobs)."
    ),
    log_level: str | None = typer.Option(
        None, help="Log level: debug, info, warning, error (default ZHIKU_LOG_LEVEL, info)."
    ),
    jobs: bool | None = typer.Option(
        None, "--jobs/--no-jobs",
        help="Run background jobs in the server processes (default: ZHIKU_API_RUN_JOBS, true); "
        "--no-jobs when `zhiku worker` processes run them.",
    ),
) -> None:
    """Start the HTTP API (OpenAPI at /docs and /openapi.json)."""
    import uvicorn

    from zhiku.core.errors import InvalidInput
    from zhiku.core.logging import logging_config
    from zhiku.core.settings import Settings

    settings = Settings()
    level = (log_level or settings.log_level).lower()
    try:  # uvicorn applies it in every server process: zhiku.* lines show beside uvicorn's
        log_config = logging_config(level, json=settings.log_json)
    except InvalidInput as exc:
        raise typer.BadParameter(exc.message, param_hint="--log-level") from exc
    proxies = settings.api_forwarded_allow_ips
    if jobs is not None:  # the app factory reads its settings in each server process
        os.environ["ZHIKU_API_RUN_JOBS"] = "true" if jobs else "false"

    uvicorn.run(
        "zhiku.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config,
        log_level=level,
        proxy_headers=bool(proxies),  # the client address comes from trusted proxies only
        forwarded_allow_ips=",".join(proxies) or None,
        server_header=False,
    )
