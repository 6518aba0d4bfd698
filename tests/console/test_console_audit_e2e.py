"""The Audit page in real headless Chromium against a real ``zhiku serve``: a failed and a
successful sign-in and a change appear with their actor, address and result, in the browser's
local time with its zone; filters by action and result; older entries a page at a time; the
JSON-lines export; Chinese and English (screenshots docs/screenshots/audit-*.png)."""

from __future__ import annotations

import json
import os
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
    shot,
    sign_in,
)

from serving import admin_init, serve

pytestmark = BROWSER_MARKS


@pytest.fixture
def server(zhiku_home: Path) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    key = admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base:
        yield base, key


def test_audit_page(server: tuple[str, str], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, key = server
    h = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=h) as api:
        assert api.post("/v1/auth/login", json={"email": EMAIL, "password": "wrong"}
                        ).status_code == 401
        for name in ("hr", "legal", "finance"):
            assert api.post("/v1/kbs", json={"name": name}).status_code == 201
        assert api.delete("/v1/kbs/legal").status_code == 200
        for n in range(120):  # more than one page of entries
            assert api.post("/v1/keys", json={"name": f"robot-{n}"}).status_code == 201

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US",
                                  timezone_id="Asia/Shanghai", accept_downloads=True)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: csp_violation(m, errors))
        sign_in(page, base)
        page.get_by_role("navigation").get_by_role("link", name="Audit").click()
        expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
        rows = page.locator("tr.audit-row")
        expect(rows.first).to_be_visible()
        expect(rows.first).to_contain_text("auth.login")  # this sign-in, newest first
        expect(rows.first).to_contain_text(EMAIL)
        expect(rows.first.locator("time")).to_contain_text("GMT+8")
        assert rows.count() == 100
        page.get_by_role("button", name="Older entries").click()
        # admin init (2), the failed sign-in, 3 + 1 knowledge bases, 120 keys, this sign-in
        expect(rows).to_have_count(2 + 1 + 4 + 120 + 1)
        expect(page.get_by_role("button", name="Older entries")).to_be_hidden()

        page.get_by_label("Action").fill("kb")
        page.get_by_role("button", name="Apply").click()
        expect(rows).to_have_count(4)
        expect(page.locator("tr.audit-row[data-action='kb.delete']")).to_contain_text("legal")
        page.get_by_label("Action").fill("")
        page.get_by_label("Result").select_option("failure")
        page.get_by_role("button", name="Apply").click()
        expect(rows).to_have_count(1)
        failed = rows.first
        expect(failed).to_contain_text("auth.login")
        expect(failed).to_contain_text("127.0.0.1")
        failed.locator("summary").click()
        expect(failed.locator("pre")).to_contain_text("wrong e-mail or password")
        with page.expect_download() as download:
            page.get_by_role("button", name="Export JSON lines").click()
        lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
        assert [json.loads(line)["result"] for line in lines] == ["failure"]

        page.get_by_label("Result").select_option("")
        page.get_by_label("Action").fill("kb")
        page.get_by_role("button", name="Apply").click()
        expect(rows).to_have_count(4)
        shot(page, "audit-en-1280")
        page.locator("#lang").select_option("zh")
        expect(page.get_by_role("heading", name="审计日志", level=1)).to_be_visible()
        page.get_by_label("操作", exact=True).fill("kb")
        page.get_by_role("button", name="应用").click()
        expect(rows).to_have_count(4)
        expect(page.locator("tr.audit-row .badge").first).to_have_text("成功")
        shot(page, "audit-zh-1280")

        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                    is_mobile=True, has_touch=True)
        phone.add_cookies(ctx.cookies())
        p2 = phone.new_page()
        p2.goto(base + "/#/audit")
        expect(p2.get_by_role("heading", name="审计日志", level=1)).to_be_visible()
        expect(p2.locator("tr.audit-row").first).to_be_visible()
        width = p2.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the audit page overflows at phone width: {width}px"
        assert not errors, errors
        browser.close()
