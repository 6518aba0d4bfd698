"""What the console draws, over HTTP: usage per day/hour and per assistant/key, PDF pages
rendered to PNG, and subgraphs of the knowledge graph (overview and one entity's
neighbourhood)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from api_helpers import api_settings, make_tenant, seed, wait_job
from fastapi.testclient import TestClient

from zhiku.api.app import create_app

ORG = (
    "# Acme Group\n\nAcme Group was founded in Berlin by Anna Schmidt. Anna Schmidt hired "
    "Li Wei in Shanghai. Li Wei leads the Shanghai Office of Acme Group. The Berlin Office "
    "works with the Shanghai Office and with Globex Corporation.\n\n## Partners\n\n"
    "Globex Corporation supplies Acme Group. Anna Schmidt met Hank Scorpio of Globex "
    "Corporation in Berlin.\n"
)


def _pdf(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def _upload(client: TestClient, headers: dict[str, str], kb: str, name: str, data: bytes,
            kind: str) -> int:
    r = client.post(f"/v1/kbs/{kb}/documents", headers=headers,
                    files=[("files", (name, data, kind))])
    assert r.status_code == 202, r.text
    job = wait_job(client, headers, r.json()["id"])
    assert job["status"] == "done", job
    return int(job["files"][0]["document_id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = api_settings(tmp_path_factory.mktemp("views-api"))
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        seed(client, t, "hr")
        h = t.headers
        pdf_id = _upload(client, h, "hr", "policy.pdf",
                         _pdf(["Refund policy. Refunds are issued within 14 days.",
                               "Page two: exchanges."]), "application/pdf")
        r = client.post("/v1/kbs", headers=h, json={"name": "org", "settings": {"graph": True}})
        assert r.status_code == 201
        _upload(client, h, "org", "org.md", ORG.encode(), "text/markdown")
        yield {"client": client, "t": t, "pdf_id": pdf_id,
               "reader": {"Authorization": f"Bearer {t.ids['read_key']}"}}


def test_usage_series_per_assistant_and_key(world: dict[str, Any]) -> None:
    client, t = world["client"], world["t"]
    today = date.today().isoformat()  # the server records UTC; allow for a date change
    out = client.get("/v1/usage/series", headers=t.headers).json()
    assert out["by"] == "assistant" and out["bucket"] == "day"
    [point] = [p for p in out["points"] if p["group"] == "hr-bot"]
    assert point["requests"] == 1 and point["calls"] >= 1 and point["label"] == "hr-bot"
    assert abs(date.fromisoformat(point["bucket"]).toordinal() - date.fromisoformat(today)
               .toordinal()) <= 1
    keys = client.get("/v1/usage/series?by=key&bucket=hour", headers=t.headers).json()
    [by_key] = keys["points"]
    assert len(by_key["bucket"]) == 13 and by_key["label"] == "admin"
    assert by_key["group"] > 0 and by_key["requests"] == 1 and by_key["avg_latency_ms"] > 0
    later = (date.today() + timedelta(days=2)).isoformat()
    assert client.get(f"/v1/usage/series?since={later}", headers=t.headers).json()["points"] == []
    r = client.get(f"/v1/usage/series?since={later}&until={today}", headers=t.headers)
    assert r.status_code == 400
    assert client.get("/v1/usage/series", headers=world["reader"]).status_code == 403


def test_pdf_pages_render(world: dict[str, Any]) -> None:
    client, t, doc = world["client"], world["t"], world["pdf_id"]
    base = f"/v1/kbs/hr/documents/{doc}/pages"
    pages = client.get(base, headers=world["reader"]).json()
    assert pages["count"] == 2 and pages["pages"][0]["width"] == pytest.approx(595.28, abs=1)
    r = client.get(f"{base}/2?width=300", headers=world["reader"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", r.content[16:24])
    assert width == 300 and 420 <= height <= 426  # A4 proportions
    assert client.get(f"{base}/3", headers=t.headers).status_code == 404
    assert client.get(f"{base}/1?width=5", headers=t.headers).status_code == 422
    md = client.get(f"/v1/kbs/hr/documents/{t.ids['doc_id']}/pages", headers=t.headers)
    assert md.status_code == 415 and md.json()["error"]["type"] == "unsupported_format"


def test_graph_subgraph_overview_and_neighbourhood(world: dict[str, Any]) -> None:
    client, t = world["client"], world["t"]
    base = "/v1/kbs/org/graph/subgraph"
    top = client.get(base, headers=world["reader"]).json()
    assert top["center"] is None and top["total"] == len(top["nodes"]) > 3
    ids = {n["id"] for n in top["nodes"]}
    assert top["edges"] and all(e["source"] in ids and e["target"] in ids for e in top["edges"])
    mentions = [n["mentions"] for n in top["nodes"]]
    assert mentions == sorted(mentions, reverse=True)
    assert len(client.get(f"{base}?limit=2", headers=t.headers).json()["nodes"]) == 2

    around = client.get(f"{base}?around=anna schmidt", headers=t.headers).json()
    center = around["nodes"][0]
    assert around["center"] == center["id"] and center["name"] == "Anna Schmidt"
    assert len(around["nodes"]) > 1
    touching = [e for e in around["edges"] if center["id"] in (e["source"], e["target"])]
    assert len(touching) >= len(around["nodes"]) - 1
    by_id = client.get(f"{base}?around_id={center['id']}&limit=1", headers=t.headers).json()
    assert by_id["center"] == center["id"] and len(by_id["nodes"]) == 2
    assert client.get(f"{base}?around=Nobody Here", headers=t.headers).status_code == 404
    both = client.get(f"{base}?around=x&around_id=1", headers=t.headers)
    assert both.status_code == 400
    empty = client.get("/v1/kbs/hr/graph/subgraph", headers=t.headers).json()
    assert empty["nodes"] == [] and empty["edges"] == [] and empty["total"] == 0
