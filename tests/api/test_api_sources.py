"""Sources over HTTP: a folder source inside the allowed roots is added, synced by the server's
worker, listed with its last run, rescheduled and removed with its documents; a folder outside
the roots, a bad cron expression and unknown settings are refused; secrets never come back."""

from __future__ import annotations

import json
from pathlib import Path

from api_helpers import api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.api.app import create_app
from zhiku.connectors.store import SourceStore
from zhiku.models.llm.secrets import SecretBox
from zhiku.store.db import open_database


def test_a_folder_source_over_http(zhiku_home: Path, tmp_path: Path) -> None:
    allowed = tmp_path / "shares"
    share = allowed / "hr"
    share.mkdir(parents=True)
    (share / "leave.md").write_text("# Leave\n\nStaff get twenty days of leave.\n")
    settings = api_settings(zhiku_home, sources_folder_roots=[str(allowed)])
    with TestClient(create_app(settings)) as client:
        h = make_tenant(settings, "acme").headers
        assert client.post("/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201

        outside = client.post("/v1/kbs/hr/sources", headers=h, json={
            "name": "etc", "kind": "folder", "config": {"path": str(tmp_path)}})
        assert outside.status_code == 400 and "sources_folder_roots" in outside.text
        bad = client.post("/v1/kbs/hr/sources", headers=h, json={
            "name": "x", "kind": "folder", "config": {"path": str(share), "depth": 3}})
        assert bad.status_code == 400 and "depth" in bad.text
        made = client.post("/v1/kbs/hr/sources", headers=h, json={
            "name": "handbook", "kind": "folder", "config": {"path": str(share)}})
        assert made.status_code == 201, made.text
        source = made.json()
        assert source["kind"] == "folder" and source["secret_names"] == []
        again = client.post("/v1/kbs/hr/sources", headers=h, json={
            "name": "handbook", "kind": "folder", "config": {"path": str(share)}})
        assert again.status_code == 409

        run = client.post("/v1/kbs/hr/sources/handbook/sync", headers=h, json={})
        assert run.status_code == 202 and run.json()["status"] in ("queued", "running", "done")
        done = wait_job(client, h, run.json()["job_id"])
        assert done["kind"] == "sync" and done["result"]["added"] == 1, done
        runs = client.get(f"/v1/sources/{source['id']}/runs", headers=h).json()
        assert runs[0]["status"] == "done" and runs[0]["added"] == 1
        listed = client.get("/v1/kbs/hr/sources", headers=h).json()
        assert listed[0]["last_run"]["id"] == runs[0]["id"]
        docs = client.get("/v1/kbs/hr/documents", headers=h).json()
        assert [d["metadata"]["relative_path"] for d in docs] == ["leave.md"]

        (share / "leave.md").write_text("# Leave\n\nStaff get thirty days of leave.\n")
        by_id = client.post(f"/v1/sources/{source['id']}/sync", headers=h)
        assert by_id.status_code == 202
        wait_job(client, h, by_id.json()["job_id"])
        runs = client.get("/v1/kbs/hr/sources/handbook/runs", headers=h).json()
        assert [r["updated"] for r in runs] == [1, 0]

        patched = client.patch("/v1/kbs/hr/sources/handbook", headers=h,
                               json={"schedule": "30 2 * * *"})
        assert patched.status_code == 200 and patched.json()["next_run_at"].endswith(
            "02:30:00.000Z")
        wrong = client.patch("/v1/kbs/hr/sources/handbook", headers=h,
                             json={"schedule": "sometimes"})
        assert wrong.status_code == 400
        shown = client.get(f"/v1/kbs/hr/sources/{source['id']}", headers=h).json()
        assert shown["schedule"] == "30 2 * * *"

        kinds = {k["kind"]: k for k in client.get("/v1/source-kinds", headers=h).json()}
        assert kinds["folder"]["available"] and "path" in json.dumps(
            kinds["folder"]["config_schema"])

        gone = client.delete("/v1/kbs/hr/sources/handbook", headers=h)
        assert gone.status_code == 200
        assert client.get("/v1/kbs/hr/documents", headers=h).json() == []
        assert client.get(f"/v1/sources/{source['id']}/runs", headers=h).status_code == 404


def test_secrets_are_stored_encrypted_and_never_listed(zhiku_home: Path) -> None:
    settings = api_settings(zhiku_home)
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        client.post("/v1/kbs", headers=t.headers, json={"name": "hr"})
        db = open_database(settings)
        try:
            kb_id = db.conn.execute("SELECT id FROM knowledge_bases").fetchone()[0]
            store = SourceStore(db, t.workspace_id, SecretBox(settings.home))
            made = store.add(kb_id, "bucket", "s3", {"bucket": "b"},
                             {"secret_access_key": "s3cr3t-value-42"}, schedule=None,
                             next_run_at=None, max_delete_share=None)
            assert made.secret_names == ["secret_access_key"]
            assert store.secrets(made.id) == {"secret_access_key": "s3cr3t-value-42"}
            raw = db.conn.execute("SELECT * FROM sources").fetchall()
            assert "s3cr3t-value-42" not in repr([tuple(r) for r in raw])
        finally:
            db.close()
        listed = client.get("/v1/kbs/hr/sources", headers=t.headers)
        assert listed.status_code == 200 and "s3cr3t" not in listed.text
        assert listed.json()[0]["secret_names"] == ["secret_access_key"]
