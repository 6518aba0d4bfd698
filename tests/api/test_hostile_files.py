"""Hostile files uploaded to a real ``zhiku serve``: zip bombs, raster bombs, XML entity
expansion, deep JSON and a tall page rendered for the page view. Each fails alone (or renders
small), the server's memory stays flat, /healthz keeps answering, and the normal files of the
same upload are ingested."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import httpx
import pytest
from api_helpers import HANDBOOK, wait_job

from bombs import (
    MiB,
    deep_json,
    docx_bomb,
    docx_bytes,
    docx_entity_bomb,
    pdf_page,
    png_header_bomb,
    pptx_bomb,
    xlsx_bomb,
)
from serving import admin_init, serve_process
from zhiku.ingest import pages as pdf_pages

pytestmark = pytest.mark.slow
GROWTH_LIMIT = 300 * 1024 * 1024

def corpus() -> dict[str, tuple[bytes, str | None]]:
    """Upload name -> (content, what its error says; ``None``: it is ingested)."""
    bomb = 300 * MiB  # over the 256 MiB default per entry; +480 MB of RSS when inflated
    return {
        "bomb.docx": (docx_bomb(bomb), "zip bomb"),
        "bomb.xlsx": (xlsx_bomb(bomb), "zip bomb"),
        "bomb.pptx": (pptx_bomb(bomb), "zip bomb"),
        "huge.png": (png_header_bomb(12_000, 12_000), "(144 Mpx), over the 1 Mpx limit"),
        "blank-huge-page.pdf": (pdf_page(7200, 7200), "no text could be extracted"),
        "entities.docx": (docx_entity_bomb(), "amplification"),
        "deep.json": (deep_json(), "RecursionError"),
        "tall.pdf": (pdf_page(50, 2000, "Receipt roll of the night shift."), None),
        "memo.docx": (docx_bytes("The canteen opens at noon."), None),
        "handbook.md": (HANDBOOK.encode(), None),
    }


def rss(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Watch:
    """Samples the server's RSS and /healthz in the background."""

    def __init__(self, base: str, pid: int) -> None:
        self.base, self.pid = base, pid
        self.peak = self.start = rss(pid)
        self.health_failures: list[str] = []
        self.health_checks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last_health = 0.0
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            if time.monotonic() - last_health > 0.25:
                last_health = time.monotonic()
                try:
                    status = httpx.get(f"{self.base}/healthz", timeout=3).status_code
                    self.health_checks += 1
                    if status != 200:
                        self.health_failures.append(str(status))
                except httpx.HTTPError as exc:
                    self.health_failures.append(repr(exc))
            time.sleep(0.02)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def test_hostile_uploads_fail_alone_and_memory_stays_flat(zhiku_home: Path) -> None:
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "true", "ZHIKU_MAX_IMAGE_PIXELS": "1000000"}  # keeps OCR quick
    key = admin_init(env, "owner@acme.example", "correct horse battery")
    h = {"Authorization": f"Bearer {key}"}
    files = corpus()
    assert all(len(data) < 500_000 for data, _ in files.values())
    with serve_process(env) as (base, proc), httpx.Client(base_url=base, headers=h,
                                                         timeout=60) as c:
        assert c.post("/v1/kbs", json={"name": "intake"}).status_code == 201
        with Watch(base, proc.pid) as watch:
            upload = [("files", (name, data, "application/octet-stream"))
                      for name, (data, _) in files.items()]
            job = c.post("/v1/kbs/intake/documents", files=upload).json()
            job = wait_job(c, {}, job["id"], timeout=120)
            results = {f["source"]: f for f in job["files"]}
            tall = results["tall.pdf"]["document_id"]
            page = c.get(f"/v1/kbs/intake/documents/{tall}/pages/1",
                         params={"width": pdf_pages.MAX_WIDTH})
        assert job["status"] == "done", job
        for name, (_, error) in files.items():
            result = results[name]
            if error is None:
                assert result["status"] == "added", (name, result)
            else:
                assert result["status"] == "failed", (name, result)
                assert error in result["error"], (name, result["error"])
        hits = c.post("/v1/search", json={"query": "canteen noon",
                                          "knowledge_bases": ["intake"]}).json()["hits"]
        assert hits[0]["source"] == "memo.docx"
        from PIL import Image

        assert page.status_code == 200
        width, height = Image.open(io.BytesIO(page.content)).size
        assert height <= pdf_pages.MAX_HEIGHT + 1 and width * height <= 1_000_000 * 1.01
        assert watch.peak - watch.start < GROWTH_LIMIT, (watch.start, watch.peak)
        assert watch.health_checks >= 1 and watch.health_failures == []
