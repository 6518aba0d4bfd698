"""Originals are downloaded as attachments typed by what they were parsed as (checked against
their bytes), never by the uploader's claim, which other workspaces cannot influence either."""

from __future__ import annotations

from api_helpers import HANDBOOK, Tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.api.media_types import OCTET_STREAM, served_type

PAGE = b"<html><body><h1>Leave</h1><p>Fifteen days of paid leave.</p></body></html>"


def _upload(client: TestClient, t: Tenant, kb: str, name: str, data: bytes, claim: str) -> int:
    client.post("/v1/kbs", headers=t.headers, json={"name": kb})
    r = client.post(f"/v1/kbs/{kb}/documents", headers=t.headers,
                    files=[("files", (name, data, claim))])
    job = wait_job(client, t.headers, r.json()["id"])
    assert job["status"] == "done", job
    return int(job["files"][0]["document_id"])


def test_download_type_is_detected_not_claimed(client: TestClient, tenant_a: Tenant) -> None:
    doc = _upload(client, tenant_a, "web", "page.html", PAGE, "image/svg+xml")
    r = client.get(f"/v1/kbs/web/documents/{doc}/original", headers=tenant_a.headers)
    assert r.content == PAGE
    assert r.headers["content-type"].split(";")[0] == "text/html"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]


def test_another_workspace_cannot_set_my_download_type(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    data = HANDBOOK.encode()
    _upload(client, tenant_b, "kb", "same.html", data, "text/html")  # same bytes, first
    doc = _upload(client, tenant_a, "kb", "handbook.txt", data, "text/plain")
    r = client.get(f"/v1/kbs/kb/documents/{doc}/original", headers=tenant_a.headers)
    assert r.content == data
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


def test_served_type() -> None:
    assert served_type("pdf", b"%PDF-1.7\n...") == "application/pdf"
    assert served_type("pdf", b"<html>") == OCTET_STREAM
    assert served_type("png", b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert served_type("docx", b"PK\x03\x04rest").startswith("application/vnd.openxml")
    assert served_type("docx", b"<svg/>") == OCTET_STREAM
    assert served_type("webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert served_type("webp", b"RIFF\x00\x00\x00\x00WAVEfmt ") == OCTET_STREAM
    assert served_type("md", "# 标题".encode()) == "text/markdown; charset=utf-8"
    assert served_type("txt", b"a\x00b") == OCTET_STREAM
    assert served_type("exe", b"MZ") == OCTET_STREAM
