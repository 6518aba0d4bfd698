"""The app factory: ``create_app(settings)``. Nothing happens at import time; the lifespan opens
the database, the per-workspace facades and the ingestion worker, and closes them again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from zhiku import __version__
from zhiku.api.audit_scope import AuditScope
from zhiku.api.auth_first import AuthBeforeBody
from zhiku.api.docs import mount_docs
from zhiku.api.errors import install_error_handlers
from zhiku.api.headers import SecurityHeaders
from zhiku.api.limits import BodySizeLimit
from zhiku.api.metrics import Metrics, MetricsMiddleware
from zhiku.api.reader_scope import ReaderScope
from zhiku.api.request_id import RequestId
from zhiku.api.routers import (
    agents,
    apps,
    assistants,
    audit,
    chunks,
    conversations,
    document_batch,
    documents,
    eval_tables,
    evals,
    feedback,
    graph,
    graph_view,
    groups,
    health,
    invitations,
    jobs,
    kb_catalog,
    keys,
    knowledge_bases,
    logs,
    metrics,
    moderation,
    openai,
    pages,
    providers,
    releases,
    search,
    share_links,
    share_public,
    sources,
    sso,
    tool_sources,
    usage_series,
    users,
    workflows,
    workspaces,
)
from zhiku.api.state import ApiState
from zhiku.console import mount_console
from zhiku.core.heap import tune_allocator
from zhiku.core.settings import Settings
from zhiku.mcp.http import mount_mcp

ROUTERS = (
    health,
    metrics,
    users,
    invitations,
    sso,
    workspaces,
    keys,
    knowledge_bases,
    kb_catalog,
    document_batch,
    documents,
    groups,
    pages,
    jobs,
    sources,
    chunks,
    search,
    graph,
    graph_view,
    assistants,
    releases,
    conversations,
    feedback,
    logs,
    usage_series,
    eval_tables,
    evals,
    workflows,
    agents,
    tool_sources,
    apps,
    audit,
    share_links,
    share_public,
    moderation,
    providers,
    openai,
)


def create_app(settings: Settings | None = None, *, worker: bool = True) -> FastAPI:
    """Build the HTTP API. ``worker=False`` (or ``api_run_jobs`` off) leaves queued jobs to
    other processes: ``zhiku worker`` in server mode, or a test."""
    chosen = settings or Settings()
    metrics_ = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tune_allocator(chosen.malloc_mmap_threshold_kb)  # before the job threads start
        state = ApiState.open(chosen, metrics_)
        app.state.api = state
        if worker and chosen.api_run_jobs:
            state.jobs.start(concurrency=chosen.api_job_threads)
        try:
            async with AsyncExitStack() as running:
                if mcp is not None:
                    await running.enter_async_context(mcp.running())
                yield
        finally:
            state.close()

    app = FastAPI(
        title="Zhiku API",
        version=__version__,
        description="Knowledge bases, documents, search, assistants and chat with citations; "
        "an OpenAI-compatible chat endpoint per assistant.",
        lifespan=lifespan,
        docs_url=None,  # served by mount_docs from local files, not a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    mount_docs(app)
    mcp = mount_mcp(app)  # MCP over streamable HTTP at /mcp, with the same API keys
    mount_console(app)  # the web console at / (not in the OpenAPI schema)
    # the last added runs first: the request id, headers on every answer, body sizes, metrics,
    # then the caller's credential is checked before any body is read
    app.add_middleware(AuthBeforeBody)
    app.add_middleware(AuditScope)  # who acts, and from where, for the audit log
    app.add_middleware(ReaderScope)  # which documents the caller reads
    app.add_middleware(MetricsMiddleware, metrics=metrics_)
    app.add_middleware(
        BodySizeLimit,
        request_limit=chosen.api_max_request_bytes,
        upload_limit=chosen.api_max_upload_bytes,
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestId)
    return app


def app_from_env() -> FastAPI:
    """The factory ``uvicorn --factory`` calls in each worker process."""
    return create_app(Settings())
