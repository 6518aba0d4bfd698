"""Two app instances on one database, each served by uvicorn on its own 127.0.0.1 port, with a
published assistant over the handbook: what the share-link tests run against."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from api_helpers import HANDBOOK, Tenant, make_tenant

from serving import free_port
from waiting import wait_until
from zhiku.api.app import create_app
from zhiku.core.settings import Settings


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """``create_app(settings)`` served over HTTP on a free port until the block ends."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, 60, "uvicorn to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class Site:
    """The servers, the tenant and what was made."""

    bases: list[str]
    tenant: Tenant
    settings: Settings
    slug: str = "hr-bot"

    @property
    def base(self) -> str:
        return self.bases[0]

    def api(self, method: str, path: str, want: int = 200, **kw: Any) -> Any:
        r = httpx.request(method, self.base + path, headers=self.tenant.headers, timeout=60, **kw)
        assert r.status_code == want, (method, path, r.status_code, r.text[:300])
        return r.json()

    def link(self, **settings: Any) -> dict[str, Any]:
        """A new share link to the assistant."""
        return self.api("POST", f"/v1/assistants/{self.slug}/share-links", 201, json=settings)

    def session(self, token: str, want: int = 200, base: str | None = None,
                headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
        r = httpx.post(f"{base or self.base}/s/{token}/session", json=body,
                       headers=headers or {}, timeout=60)
        assert r.status_code == want, (r.status_code, r.text[:300])
        return r

    def chat(self, token: str, visitor: str, message: str = "How many days of annual leave?",
             base: str | None = None, headers: dict[str, str] | None = None,
             **body: Any) -> httpx.Response:
        return httpx.post(f"{base or self.base}/s/{token}/chat",
                          json={"message": message, **body}, timeout=60,
                          headers={"Authorization": f"Bearer {visitor}", **(headers or {})})


def seed_site(settings: Settings, bases: list[str], name: str = "acme") -> Site:
    """A tenant with a knowledge base, the handbook and a published extractive assistant."""
    site = Site(bases, make_tenant(settings, name), settings)
    site.api("POST", "/v1/kbs", 201, json={"name": "handbook"})
    job = site.api("POST", "/v1/kbs/handbook/documents", 202,
                   files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))])

    def done() -> bool:
        return bool(site.api("GET", f"/v1/jobs/{job['id']}")["status"] == "done")

    wait_until(done, 60, "the upload to be indexed")
    site.api("POST", "/v1/assistants", 201, json={
        "slug": site.slug, "name": "HR helper", "config": {"knowledge_bases": ["handbook"]}})
    site.api("POST", f"/v1/assistants/{site.slug}/publish", json={"note": "v1"})
    return site
