"""The knowledge graph through the HTTP API, on real HotpotQA paragraphs: extraction during
ingestion (``graph`` setting) and by a background build, stats, entity search, an entity with
the passages behind its relations, paths, export (GraphML read back by networkx), graph search
modes returning chunk citations."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from api_helpers import Tenant, api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.api.app import create_app

HOTPOT = Path(__file__).resolve().parents[3] / "shared/data/hotpotqa500/dev_subsampled.jsonl"
SETTINGS = {"chunk_tokens": 2048, "chunk_overlap": 0}


def _rows(n: int = 12) -> list[dict[str, Any]]:
    if not HOTPOT.exists():
        pytest.skip(f"shared data set missing: {HOTPOT}")
    with HOTPOT.open(encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(n), fh, strict=False)]


def _paragraphs(rows: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(title, text) → file name, one markdown file per distinct paragraph."""
    sources: dict[tuple[str, str], str] = {}
    for row in rows:
        for c in row["contexts"]:
            sources.setdefault((c["title"], c["paragraph_text"]), f"p{len(sources):04d}.md")
    return sources


def _upload(client: TestClient, t: Tenant, kb: str, sources: dict[tuple[str, str], str]) -> None:
    files = [("files", (src, f"# {title}\n\n{text}\n".encode(), "text/markdown"))
             for (title, text), src in sources.items()]
    r = client.post(f"/v1/kbs/{kb}/documents", headers=t.headers, files=files)
    assert r.status_code == 202, r.text
    job = wait_job(client, t.headers, r.json()["id"], timeout=120)
    assert job["status"] == "done" and job["files_done"] == len(sources), job


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One tenant; 'hp' extracts during ingestion, 'late' gets its graph from a build."""
    rows = _rows()
    sources = _paragraphs(rows)
    settings = api_settings(tmp_path_factory.mktemp("graph-api"))
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        for kb, graph in (("hp", True), ("late", False)):
            r = client.post("/v1/kbs", headers=t.headers,
                            json={"name": kb, "settings": {**SETTINGS, "graph": graph}})
            assert r.status_code == 201, r.text
            _upload(client, t, kb, sources)
        read = client.post("/v1/keys", headers=t.headers, json={"name": "r", "access": "read"})
        yield {"client": client, "t": t, "rows": rows, "sources": sources,
               "read": {"Authorization": f"Bearer {read.json()['key']}"}}


def _get(world: dict[str, Any], url: str, **params: Any) -> Any:
    r = world["client"].get(url, headers=world["t"].headers, params=params)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return r.json()


def test_ingestion_with_graph_on_extracts(world: dict[str, Any]) -> None:
    stats = _get(world, "/v1/kbs/hp/graph")
    assert stats["kb"] == "hp" and stats["graph_on_ingest"] is True
    assert stats["nodes"] > 50 and stats["edges"] > 50 and stats["mentions"] > stats["nodes"]
    chunks = _get(world, "/v1/kbs/hp")["stats"]["chunks"]
    assert stats["chunks_done"] == chunks and stats["llm_chunks"] == 0  # rules only


def test_build_extracts_documents_already_there(world: dict[str, Any]) -> None:
    client, h = world["client"], world["t"].headers
    before = _get(world, "/v1/kbs/late/graph")
    assert before["graph_on_ingest"] is False and before["nodes"] == 0
    assert client.post("/v1/kbs/late/graph/build", headers=world["read"]).status_code == 403
    r = client.post("/v1/kbs/late/graph/build", headers=h)
    assert r.status_code == 202, r.text
    assert r.json()["kind"] == "graph"
    job = wait_job(client, h, r.json()["id"], timeout=120)
    assert job["status"] == "done", job
    result = job["result"]
    assert result["chunks"] == _get(world, "/v1/kbs/late")["stats"]["chunks"]
    assert result["communities"] > 0
    after = _get(world, "/v1/kbs/late/graph")
    assert after["nodes"] == result["nodes"] > 50
    assert after["nodes"] == _get(world, "/v1/kbs/hp/graph")["nodes"]  # same extractor
    # a second build has nothing left to extract; the body is optional and strict
    again = wait_job(client, h, client.post("/v1/kbs/late/graph/build", headers=h,
                                            json={"communities": False}).json()["id"])
    assert again["status"] == "done" and again["result"]["chunks"] == 0
    r = client.post("/v1/kbs/late/graph/build", headers=h, json={"nope": 1})
    assert r.status_code == 422
    # extraction during ingestion is the knowledge base's setting, switched by PATCH
    r = client.patch("/v1/kbs/late", headers=h, json={"settings": {"graph": True}})
    assert r.status_code == 200 and r.json()["settings"]["graph"] is True
    assert _get(world, "/v1/kbs/late/graph")["graph_on_ingest"] is True
    r = client.patch("/v1/kbs/late", headers=h, json={"settings": {"graph": False}})
    assert r.status_code == 200
    assert _get(world, "/v1/kbs/late/graph")["graph_on_ingest"] is False


def test_entity_search_and_show_with_passages(world: dict[str, Any]) -> None:
    found = _get(world, "/v1/kbs/hp/graph/entities", q="shirley TEMPLE")
    assert found and found[0]["name"].lower().startswith("shirley temple"), found
    top = _get(world, "/v1/kbs/hp/graph/entities", limit=5)
    assert len(top) == 5 and top[0]["mentions"] >= top[-1]["mentions"]
    assert _get(world, "/v1/kbs/hp/graph/entities", q="zzzz-not-a-name") == []

    entity = _get(world, "/v1/kbs/hp/graph/entities/Shirley Temple")
    assert entity["name"] == found[0]["name"] and entity["mentions"] > 0
    assert entity["provenance"] and entity["relations"]
    for rel in entity["relations"]:
        assert rel["type"] and rel["weight"] > 0 and rel["direction"] in ("in", "out")
        assert 1 <= len(rel["passages"]) <= 3
        for p in rel["passages"]:
            assert p["source"].endswith(".md") and p["text"]
            chunk = _get(world, f"/v1/kbs/hp/chunks/{p['chunk_id']}")
            assert chunk["text"] == p["text"] and chunk["document_id"] == p["document_id"]
    # a passage behind a relation of Shirley Temple is a chunk that mentions her
    assert any("Temple" in p["text"] for rel in entity["relations"] for p in rel["passages"])
    bare = _get(world, "/v1/kbs/hp/graph/entities/shirley temple", passages=0, limit=2)
    assert len(bare["relations"]) <= 2 and all(r["passages"] == [] for r in bare["relations"])
    r = world["client"].get("/v1/kbs/hp/graph/entities/No Such Entity Anywhere",
                            headers=world["t"].headers)
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"


def test_path(world: dict[str, Any]) -> None:
    entity = _get(world, "/v1/kbs/hp/graph/entities/Shirley Temple")
    neighbour = entity["relations"][0]["entity"]
    one = _get(world, "/v1/kbs/hp/graph/path", a="Shirley Temple", b=neighbour)
    assert one["path"] == [entity["name"], neighbour] and one["hops"] == 1
    # two entities of different paragraphs of one question, joined through the graph
    far = _get(world, "/v1/kbs/hp/graph/entities", limit=200)
    names = {e["name"] for e in far}
    reached = [n for n in names if n != entity["name"]]
    hops = []
    for name in reached[:40]:
        r = world["client"].get("/v1/kbs/hp/graph/path", headers=world["t"].headers,
                                params={"a": entity["name"], "b": name})
        assert r.status_code in (200, 404), r.text
        if r.status_code == 200:
            body = r.json()
            assert body["path"][0] == entity["name"] and body["path"][-1] == name
            hops.append(body["hops"])
    assert hops and max(hops) >= 2
    r = world["client"].get("/v1/kbs/hp/graph/path", headers=world["t"].headers,
                            params={"a": "Shirley Temple", "b": "No Such Entity Anywhere"})
    assert r.status_code == 404
    r = world["client"].get("/v1/kbs/hp/graph/path", headers=world["t"].headers,
                            params={"a": "Shirley Temple"})
    assert r.status_code == 422


def test_export_formats_load_back(world: dict[str, Any]) -> None:
    client, h = world["client"], world["t"].headers
    stats = _get(world, "/v1/kbs/hp/graph")
    r = client.get("/v1/kbs/hp/graph/export", headers=h)  # GraphML by default
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    assert "attachment" in r.headers["content-disposition"]
    g = nx.read_graphml(io.BytesIO(r.content))
    assert g.number_of_nodes() == stats["nodes"]
    assert any(d["name"].startswith("Shirley Temple") for _, d in g.nodes(data=True))
    r = client.get("/v1/kbs/hp/graph/export", headers=h, params={"format": "json"})
    data = r.json()
    assert len(data["nodes"]) == stats["nodes"] and len(data["edges"]) == stats["edges"]
    r = client.get("/v1/kbs/hp/graph/export", headers=h, params={"format": "csv"})
    assert r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert sorted(zf.namelist()) == ["edges.csv", "nodes.csv"]
        nodes = zf.read("nodes.csv").decode().splitlines()
        assert len(nodes) == stats["nodes"] + 1
        assert zf.read("edges.csv").decode().startswith("source,target,type,weight")
    r = client.get("/v1/kbs/hp/graph/export", headers=h, params={"format": "gexf"})
    assert r.status_code == 422


def test_search_graph_modes_return_chunk_citations(world: dict[str, Any]) -> None:
    client, row, h = world["client"], world["rows"][0], world["t"].headers
    # 'hp' extracted while ingesting; a build then has no chunk left, but computes the
    # communities that global mode searches
    job = wait_job(client, h, client.post("/v1/kbs/hp/graph/build", headers=h).json()["id"])
    assert job["status"] == "done" and job["result"]["chunks"] == 0, job
    assert job["result"]["communities"] > 0
    gold = {world["sources"][(c["title"], c["paragraph_text"])] for c in row["contexts"]
            if c["is_supporting"]}
    for mode in ("local", "global", "mix"):
        r = client.post("/v1/search", headers=world["read"], json={
            "query": row["question_text"], "knowledge_bases": ["hp"], "mode": mode,
            "top_k": 10})
        assert r.status_code == 200, (mode, r.text)
        hits = r.json()["hits"]
        assert hits, mode
        for hit in hits:
            assert hit["chunk_id"] > 0 and hit["kb"] == "hp" and hit["source"].endswith(".md")
            assert hit["text"] and "graph" in hit["scores"]
        if mode == "mix":
            assert gold <= {hit["source"] for hit in hits}  # both hops of the question
            assert any(hit["scores"]["graph"] for hit in hits)
    r = client.post("/v1/search", headers=world["read"],
                    json={"query": "x", "mode": "graph"})
    assert r.status_code == 422
