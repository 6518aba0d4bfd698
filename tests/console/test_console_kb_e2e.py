"""The knowledge base and assistant pages in real headless Chromium against ``zhiku serve``:
1,500 documents paged by the server (a small page, quick page switches), search, batch tag and
delete; the settings panel (embedders listed, keyword-only Chinese said, graph switched on,
re-index all with progress); the upload's format list, unsupported and unchanged files; the
assistant preview on the draft refusing at min relevance 0.99 after a publish, the unpublished
badge and the diff; the slug derived from a Chinese name. Screenshots kb-*.png and
assistant-*.png in zh and en."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from console_support import (
    ARGS,
    BROWSER_MARKS,
    CHROMIUM,
    EMAIL,
    PASSWORD,
    csp_violation,
    expect,
    shot,
    sign_in,
    sync_playwright,
)
from test_console_e2e import HANDBOOK

from serving import admin_init, serve
from zhiku.core.settings import Settings
from zhiku.service import Zhiku

pytestmark = BROWSER_MARKS
DOCS = 1500
QUESTION = "When do leave requests for interns go to the line manager?"


@pytest.fixture
def site(zhiku_home: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A served workspace with knowledge base ``big`` (1,500 tiny documents written to the
    store), ``hr`` (the handbook, uploaded) and assistant ``hr-bot``: published, then its
    draft's min relevance raised to 0.99."""
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    key = admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base:
        h = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=h, timeout=60) as http:
            http.post("/v1/kbs", json={"name": "big"}).raise_for_status()
            http.post("/v1/kbs", json={"name": "hr"}).raise_for_status()
            with Zhiku(Settings(home=zhiku_home, embedder="hashing"), "acme") as zk:
                kb_id = zk.kb("big").id
                for i in range(DOCS):
                    zk.store.replace_document(
                        kb_id, source=f"doc-{i:04d}.txt", title=None, content_hash=f"h{i}",
                        fmt="txt", size_bytes=100 + i, metadata={}, chunks=[])
            job = http.post("/v1/kbs/hr/documents",
                            files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))])
            _wait(http, job.json()["id"])
            http.post("/v1/assistants", json={"slug": "hr-bot", "name": "HR bot",
                                              "config": {"knowledge_bases": ["hr"]}})
            http.post("/v1/assistants/hr-bot/publish", json={}).raise_for_status()
            config = http.get("/v1/assistants/hr-bot").json()["config"]
            config["retrieval"]["min_relevance"] = 0.99
            http.patch("/v1/assistants/hr-bot", json={"config": config}).raise_for_status()
        yield base, h


def _wait(http: httpx.Client, job_id: int) -> None:
    for _ in range(600):
        if http.get(f"/v1/jobs/{job_id}").json()["status"] in ("done", "failed", "dead"):
            return
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_kb_and_assistant_pages(site: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, headers = site
    (tmp_path / "handbook.md").write_bytes(HANDBOOK.encode())
    (tmp_path / "notes.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: csp_violation(m, errors))
        page.on("dialog", lambda d: d.accept())
        sign_in(page, base)

        # 1,500 documents: one page of 50, a count, quick page switches
        page.goto(base + "/#/kbs/big")
        expect(page.locator(".docs-count")).to_have_text(f"{DOCS} documents")
        rows = page.locator("tr[data-doc]")
        expect(rows).to_have_count(50)
        page.locator("button.sort[data-sort='name']").click()
        expect(rows.first).to_have_attribute("data-doc", "doc-0000.txt")
        started = time.perf_counter()
        page.locator("button[data-page='next']").click()
        expect(rows.first).to_have_attribute("data-doc", "doc-0050.txt")
        switch_ms = (time.perf_counter() - started) * 1000
        assert switch_ms < 1500, f"a page switch took {switch_ms:.0f} ms"
        height = page.evaluate("document.documentElement.scrollHeight")
        buttons = page.evaluate("document.querySelectorAll('button').length")
        assert height < 6000 and buttons < 250, (height, buttons)
        page.locator("button.sort[data-sort='size']").click()
        page.locator("button.sort[data-sort='size']").click()  # descending
        expect(rows.first).to_have_attribute("data-doc", "doc-1499.txt")

        # search by name, select the page, tag it, then delete it
        page.locator("#docs-q").fill("doc-149")
        expect(page.locator(".docs-count")).to_have_text("10 documents")
        page.get_by_label("Select all on this page").check()
        expect(page.locator(".batch strong")).to_have_text("10 selected")
        page.locator("#batch-tag").fill("archived")
        page.locator("button[data-batch='tag']").click()
        expect(page.locator("tr[data-doc] .tag", has_text="archived")).to_have_count(10)
        shot(page, "kb-documents-1280")
        page.locator("button[data-batch='delete']").click()
        expect(page.locator(".docs-count")).to_have_text("0 documents")
        page.locator("#docs-q").fill("")
        expect(page.locator(".docs-count")).to_have_text(f"{DOCS - 10} documents")

        # settings: the embedders installed, keyword-only Chinese said, graph switched on
        expect(page.locator("[data-note='keyword']")).to_be_visible()
        page.locator("#kb-settings summary").click()
        options = page.locator("#kb-embedder option")
        expect(options.first).to_contain_text("use-multilingual")
        expect(page.locator("#kb-embedder")).to_have_value("hashing")
        page.locator("#kb-chunk_tokens").fill("256")
        page.locator("#kb-graph").check()
        page.locator(".kb-settings button[type='submit']").click()
        expect(page.locator("#toast")).to_contain_text("Saved")
        kb = httpx.get(base + "/v1/kbs/big", headers=headers).json()
        assert kb["settings"] == {"chunk_tokens": 256, "graph": True}
        shot(page, "kb-settings-1280")

        # re-index all with progress; the upload lists formats, refuses .zip, skips unchanged
        page.goto(base + "/#/kbs/hr")
        expect(page.locator("#upload-formats")).to_contain_text("pdf")
        expect(page.locator("#upload-formats")).to_contain_text("docx")
        assert ".md" in (page.locator("#file-input").get_attribute("accept") or "")
        page.locator("#kb-settings summary").click()
        page.locator("#kb-reindex-all").click()
        expect(page.locator(".job-state")).to_have_text("Finished", timeout=30_000)
        page.locator("#file-input").set_input_files(
            [str(tmp_path / "handbook.md"), str(tmp_path / "notes.zip")])
        bad = page.locator("li.upload[data-file='notes.zip']")
        expect(bad).to_have_class(re.compile(r"\bbad\b"))
        expect(bad).to_contain_text(".zip files are not supported")
        expect(bad.locator("progress")).to_have_count(0)
        same = page.locator("li.upload[data-file='handbook.md']")
        expect(same).to_contain_text("skipped: unchanged", timeout=30_000)
        expect(same.locator("progress")).to_have_count(0)
        expect(page.locator("tr[data-doc]")).to_have_count(1)  # the .zip never became a row
        page.locator("ul.uploads").scroll_into_view_if_needed()
        shot(page, "kb-upload-1280")

        # a Chinese question over an embedder that does not read Chinese: said in search
        page.goto(base + "/#/search")
        page.get_by_label("Query").fill("年假有几天")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.locator(".search-notes .note")).to_contain_text("keywords only")

        # the assistant: unpublished changes, the preview on the draft refuses, the diff
        page.goto(base + "/#/assistants/hr-bot")
        expect(page.locator("form [data-unpublished]")).to_have_text("Unpublished changes")
        box = page.locator(".preview").get_by_role("textbox", name="Message")
        box.fill(QUESTION)
        box.press("Enter")
        answer = page.locator(".preview .msg.assistant[data-message]").last
        expect(answer.locator("[data-refused='true']")).to_be_visible(timeout=30_000)
        expect(answer.locator("button.cite")).to_have_count(0)
        expect(page.locator("#assistant-diff tr[data-path='retrieval.min_relevance']")
               ).to_contain_text("0.99")
        shot(page, "assistant-draft-1280")
        # the same question in the chat page uses the published version: it answers
        live = httpx.post(base + "/v1/assistants/hr-bot/chat", headers=headers,
                          json={"message": QUESTION}).json()
        assert live["refused"] is False

        # a Chinese name gets an ASCII slug, and the page says why
        page.goto(base + "/#/assistants")
        page.get_by_label("Name").fill("人事助手")
        slug = page.get_by_label("Slug (id)")
        expect(slug).to_have_value(re.compile(r"^assistant-[0-9a-f]{4}$"))
        expect(page.locator(".slug-derived")).to_be_visible()
        expect(page.locator("#slug-help")).to_contain_text("Lower-case letters")
        shot(page, "assistant-slug-1280")
        made = slug.input_value()
        page.get_by_label("hr", exact=True).check()
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("heading", name="Edit: 人事助手")).to_be_visible()
        expect(page.get_by_label("Slug (id)")).to_be_disabled()
        page.locator(f"[data-delete-assistant='{made}']").click()  # (the dialog is accepted)
        expect(page.locator("tr[data-assistant]")).to_have_count(1)
        assert httpx.get(f"{base}/v1/assistants/{made}", headers=headers).status_code == 404
        assert not errors, errors

        # zh: the same pages, translated; and at phone width nothing overflows
        zh = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        zh.add_cookies(ctx.cookies())
        p2 = zh.new_page()
        p2.on("pageerror", lambda e: errors.append(str(e)))
        p2.goto(base + "/#/kbs/big")
        expect(p2.locator(".docs-count")).to_have_text(f"共 {DOCS - 10} 个文档")
        expect(p2.locator("[data-note='keyword']")).to_contain_text("仅按关键词检索")
        shot(p2, "kb-documents-zh")
        p2.locator("#kb-settings summary").click()
        expect(p2.locator("#kb-embedder option").first).to_contain_text("支持中文")
        shot(p2, "kb-settings-zh")
        p2.goto(base + "/#/assistants/hr-bot")
        expect(p2.locator("form [data-unpublished]")).to_have_text("有未发布的修改")
        expect(p2.get_by_role("heading", name="预览（草稿）")).to_be_visible()
        shot(p2, "assistant-draft-zh")

        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                    is_mobile=True, has_touch=True)
        phone.add_cookies(ctx.cookies())
        p3 = phone.new_page()
        p3.on("pageerror", lambda e: errors.append(str(e)))
        for route, ready in (("#/kbs/big", ".docs-count"),
                             ("#/assistants/hr-bot", "#assistant-diff")):
            p3.goto(f"{base}/{route}")
            expect(p3.locator(ready)).to_be_visible()
            width = p3.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{route} overflows at phone width: {width}px"
        shot(p3, "kb-documents-390")
        assert not errors, errors
        browser.close()
