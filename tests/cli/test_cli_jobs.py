"""The CLI's URL sources and background jobs: ``zhiku ingest`` fetches URLs through the SSRF
guard (loopback refused unless allow-listed), ``--background`` queues the work for a worker and
prints the job ids, and ``zhiku jobs`` lists, shows, cancels and retries jobs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_support import last_json

from zhiku.core.settings import Settings
from zhiku.jobs.process import Jobs
from zhiku.runtime import Runtime

PAGE = b"# Parking\n\nVisitors park in the north lot, level two, next to the lifts.\n"
KB = "hr"


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/markdown")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[int]:
    """A web server on 127.0.0.1 (a loopback address: internal, so refused by default)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def cli(cli: Any, zhiku_home: Path) -> Any:
    """The ``cli`` runner with the knowledge base ``KB`` created (in ``zhiku_home``'s
    database, named so the suite runs these tests on each backend)."""
    cli("kb", "create", KB, "--embedder", "hashing")
    return cli


def test_ingest_a_url_through_the_guard(cli: Any, site: int,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{site}/parking.md"
    refused = cli("ingest", "--kb", KB, url, code=2)
    assert "internal address" in refused.output
    assert last_json(cli("docs", "list", "--kb", KB, "--json")) == []

    monkeypatch.setenv("ZHIKU_API_URL_ALLOWLIST", json.dumps([f"127.0.0.1:{site}"]))
    report = last_json(cli("ingest", "--kb", KB, "--json", url))
    assert [(f["source"], f["status"]) for f in report["files"]] == [(url, "added")]
    docs = last_json(cli("docs", "list", "--kb", KB, "--json"))
    assert [(d["source"], d["metadata"]["url"], d["status"]) for d in docs] == [
        (url, url, "ready")]


def test_background_ingest_and_the_jobs_commands(
    cli: Any, site: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"http://127.0.0.1:{site}/parking.md"
    refused = cli("ingest", "--kb", KB, "--background", url, code=2)
    assert "internal address" in refused.output
    assert last_json(cli("jobs", "list", "--json")) == []

    monkeypatch.setenv("ZHIKU_API_URL_ALLOWLIST", json.dumps([f"127.0.0.1:{site}"]))
    page = tmp_path / "leave.md"
    page.write_text("# Leave\n\nNew employees get fifteen days of paid annual leave.\n")
    queued = last_json(cli("ingest", "--kb", KB, "--background", "--json", str(page), url))
    assert [(j["kind"], j["status"]) for j in queued["jobs"]] == [
        ("ingest", "queued"), ("url", "queued")]
    ingest_id, url_id = (j["id"] for j in queued["jobs"])
    assert last_json(cli("docs", "list", "--kb", KB, "--json")) == []  # nothing ran yet
    listed = last_json(cli("jobs", "list", "--kb", KB, "--json"))
    assert [(j["id"], j["status"]) for j in listed] == [(url_id, "queued"), (ingest_id, "queued")]
    assert last_json(cli("jobs", "show", str(url_id), "--json"))["url"] == url
    assert "queued job" in cli("ingest", "--kb", KB, "--background", str(page)).output
    extra = last_json(cli("jobs", "list", "--json", "--limit", "1"))[0]["id"]
    assert "cancelled job" in cli("jobs", "cancel", str(extra)).output
    assert "only queued or running" in cli("jobs", "cancel", str(extra), code=2).output
    assert last_json(cli("jobs", "show", str(extra), "--json"))["error"] == "cancelled"

    settings = Settings()  # what 'zhiku worker' runs, in this process
    runtime = Runtime(settings)
    jobs = Jobs.of(settings, runtime.db, runtime)
    jobs.start(label="worker")
    try:
        deadline = time.monotonic() + 60
        while {j["status"] for j in last_json(cli("jobs", "list", "--json"))} & {
                "queued", "running"}:
            assert time.monotonic() < deadline, "the jobs did not finish"
            time.sleep(0.1)
    finally:
        jobs.stop()
        runtime.close()
    shown = last_json(cli("jobs", "show", str(ingest_id), "--json"))
    assert shown["status"] == "done" and [f["status"] for f in shown["files"]] == ["added"]
    assert last_json(cli("jobs", "show", str(url_id), "--json"))["status"] == "done"
    assert last_json(cli("jobs", "show", str(extra), "--json"))["status"] == "failed"
    docs = last_json(cli("docs", "list", "--kb", KB, "--json"))
    assert sorted(d["source"] for d in docs) == sorted([str(page.resolve()), url])
    assert "not exist" in cli("jobs", "show", "999999", code=2).output


def test_background_ingest_refuses_unsupported_files_up_front(cli: Any, tmp_path: Path) -> None:
    """``--background`` checks each file's type before queuing, as a direct ingest and the
    upload API do: an unreadable type is reported with the direct path's message, the others
    are queued, and the command exits 1."""
    page = tmp_path / "leave.md"
    page.write_text("# Leave\n\nNew employees get fifteen days of paid annual leave.\n")
    odd = tmp_path / "drawing.xyz"
    odd.write_bytes(b"not a document")
    direct = last_json(cli("ingest", "--kb", KB, "--json", str(odd), code=1))["files"]
    assert [f["status"] for f in direct] == ["failed"]
    message = direct[0]["error"]
    assert "unsupported file type '.xyz'" in message

    queued = cli("ingest", "--kb", KB, "--background", str(page), str(odd), code=1)
    assert f"failed {odd.resolve()}: {message}" in " ".join(queued.output.split())
    listed = last_json(cli("jobs", "list", "--json"))
    assert [(j["kind"], j["status"]) for j in listed] == [("ingest", "queued")]
    assert last_json(cli("jobs", "show", str(listed[0]["id"]), "--json"))["files_total"] == 1

    as_json = last_json(cli("ingest", "--kb", KB, "--background", "--json", str(odd),
                            str(page), code=1))
    assert [j["kind"] for j in as_json["jobs"]] == ["ingest"]
    assert as_json["failed"] == [{"source": str(odd.resolve()), "error": message}]
    only_odd = last_json(cli("ingest", "--kb", KB, "--background", "--json", str(odd), code=1))
    assert only_odd["jobs"] == [] and len(only_odd["failed"]) == 1
    assert len(last_json(cli("jobs", "list", "--json"))) == 2  # nothing more was queued
