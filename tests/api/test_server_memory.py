"""A real ``zhiku serve`` goes back to its size after a first search once ingestion jobs end:
what the jobs built (parsed files, analyses, embedding batches) is handed back, so an idle
server does not stay at a job's peak. (The next search loads the new chunks into the keyword
index and vector matrix, which is data, not a leftover: it is measured before that.) Linux only
(resident size from /proc)."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import httpx
import pytest
from api_helpers import wait_job

from serving import admin_init, serve_process

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]
MiB = 1024 * 1024
JOBS = 3
DOCS_PER_JOB = 40
# What may stay after the jobs: database pages, per-word analysis caches, the job threads' own
# arenas (14-18 MiB measured for these 120 documents, 4.8 MB of text).
KEPT_LIMIT = 40 * MiB


def rss(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def documents(seed: int) -> list[tuple[str, bytes]]:
    """``DOCS_PER_JOB`` English documents of ~40 KB from a vocabulary of 3,000 words."""
    rng = random.Random(seed)
    vocabulary = [f"w{n}ord{n % 7}" for n in range(3000)]
    return [
        (f"job{seed}-doc{n}.txt",
         "\n\n".join(" ".join(rng.choices(vocabulary, k=80)) + "." for _ in range(80)).encode())
        for n in range(DOCS_PER_JOB)
    ]


def test_server_returns_to_its_first_search_size_after_ingestion_jobs(zhiku_home: Path) -> None:
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_API_RATE_LIMIT_PER_MINUTE": "0"}
    key = admin_init(env, "owner@acme.example", "correct horse battery")
    with serve_process(env) as (base, proc), httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as c:
        assert c.post("/v1/kbs", json={"name": "notes"}).status_code == 201
        memo = ("first.txt", b"The canteen opens at noon.", "text/plain")
        first = c.post("/v1/kbs/notes/documents", files=[("files", memo)])
        assert wait_job(c, {}, first.json()["id"])["status"] == "done"
        search = {"query": "canteen noon", "knowledge_bases": ["notes"]}
        assert c.post("/v1/search", json=search).json()["hits"]
        searched = rss(proc.pid)
        for n in range(JOBS):
            upload = [("files", (name, data, "text/plain")) for name, data in documents(n)]
            job = wait_job(c, {}, c.post("/v1/kbs/notes/documents", files=upload).json()["id"],
                           timeout=300)
            assert job["status"] == "done", job
            assert all(f["status"] == "added" for f in job["files"]), job["files"]
        after = rss(proc.pid)
        assert c.post("/v1/search", json=search).json()["hits"][0]["source"] == "first.txt"
    assert after - searched < KEPT_LIMIT, (searched // MiB, after // MiB)
