"""Security headers on every response, and API docs that load nothing from other hosts."""

from __future__ import annotations

import re

from api_helpers import Tenant
from fastapi.testclient import TestClient

from zhiku.api.headers import CONSOLE_CSP, DOCS_CSP


def _secured(headers: dict[str, str] | object, csp: str = CONSOLE_CSP) -> None:
    h = dict(headers)  # type: ignore[call-overload]
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"
    assert h["content-security-policy"] == csp


def test_every_kind_of_response_has_the_headers(client: TestClient, tenant_a: Tenant) -> None:
    for path in ("/", "/console/js/main.js", "/console/app.css", "/openapi.json", "/healthz",
                 "/v1/no-such-route"):
        r = client.get(path)
        assert r.status_code in (200, 404), (path, r.status_code)
        _secured(r.headers)
    _secured(client.get("/v1/kbs").headers)  # 401
    _secured(client.get("/v1/kbs", headers=tenant_a.headers).headers)
    _secured(client.post("/v1/kbs", headers=tenant_a.headers, json={"name": ""}).headers)  # 422
    csp = CONSOLE_CSP
    for part in ("default-src 'self'", "script-src 'self'", "object-src 'none'",
                 "frame-ancestors 'none'", "base-uri 'none'"):
        assert part in csp
    assert "unsafe" not in csp


def test_console_has_no_inline_script_or_style(client: TestClient) -> None:
    page = client.get("/").text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline <script>"
    assert "<style" not in page and " style=" not in page and " on" + "click=" not in page


def test_docs_are_served_locally(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    _secured(r.headers, DOCS_CSP)
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
    assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), "inline <script>"
    for ref in refs:
        asset = client.get(ref)
        assert asset.status_code == 200 and asset.content, ref
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN
