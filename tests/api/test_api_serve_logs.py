"""What a real ``zhiku serve`` logs: its own INFO lines (the job runner's) beside uvicorn's, with
time, level and logger name, as text or as JSON lines, each request's lines with its id."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from api_helpers import HANDBOOK

from serving import ZHIKU, admin_init, free_port, wait_ready
from waiting import wait_until

pytestmark = pytest.mark.slow

TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<logger>[\w.]+) "
    r"\[\d+ [^\]]* (?P<request_id>\S+)\] (?P<message>.*)$"
)


def _serve_and_ingest(home: Path, log: Path, **env_extra: str) -> tuple[int, str]:
    """Run ``zhiku serve`` (stderr to ``log``), ingest one file with a chosen request id; the
    job id and the request id the server returned."""
    env = {**os.environ, "ZHIKU_HOME": str(home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false", **env_extra}
    key = admin_init(env, "owner@acme.example", "correct horse battery")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen([ZHIKU, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(base, why=lambda: log.read_text(encoding="utf-8"))
        h = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=h, timeout=60) as c:
            assert c.post("/v1/kbs", json={"name": "hr"}).status_code == 201
            upload = c.post("/v1/kbs/hr/documents", headers={"X-Request-ID": "upload-1"},
                            files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))])
            assert upload.status_code == 202 and upload.headers["x-request-id"] == "upload-1"
            job = upload.json()["id"]
            wait_until(lambda: c.get(f"/v1/jobs/{job}").json()["status"] == "done", 60,
                       f"job {job} done")
            made = c.get("/readyz").headers["x-request-id"]
            assert re.fullmatch("[0-9a-f]{32}", made)
        wait_until(lambda: f"job {job}: done in" in log.read_text(encoding="utf-8"), 10,
                   lambda: f"the job's log line in\n{log.read_text(encoding='utf-8')}")
    finally:
        proc.terminate()
        proc.wait(30)
    return job, "upload-1"


def test_serve_logs_its_own_info_lines_as_text(zhiku_home: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    job, rid = _serve_and_ingest(zhiku_home, log)
    lines = log.read_text(encoding="utf-8").splitlines()
    parsed = [m for m in map(TEXT_LINE.match, lines) if m]
    done = [m for m in parsed if re.fullmatch(rf"job {job}: done in \d+\.\ds.*", m["message"])]
    assert done and done[0]["level"] == "INFO" and done[0]["logger"] == "zhiku.jobs.runner", lines
    access = [m for m in parsed if m["logger"] == "uvicorn.access" and m["request_id"] == rid]
    assert access and "POST /v1/kbs/hr/documents" in access[0]["message"], lines


def test_serve_logs_json_lines_with_request_ids(zhiku_home: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    job, rid = _serve_and_ingest(zhiku_home, log, ZHIKU_LOG_JSON="true")
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    assert all({"time", "level", "logger", "message", "request_id"} <= r.keys() for r in records)
    done = [r for r in records if r["message"].startswith(f"job {job}: done in")]
    assert done and done[0]["logger"] == "zhiku.jobs.runner" and done[0]["level"] == "INFO"
    access = [r for r in records if r["logger"] == "uvicorn.access" and r["request_id"] == rid]
    assert access and "POST /v1/kbs/hr/documents" in access[0]["message"], records
    assert any(r["logger"] == "uvicorn.error" and "Uvicorn running" in r["message"]
               for r in records)
