"""The Groups page and the documents table's readers in real headless Chromium against a real
``zhiku serve``: create a group, add a key to it, restrict a document to it from the table's
batch action, see it restricted, open it again; Chinese and English (screenshots
docs/screenshots/groups-*.png)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from console_support import ARGS, BROWSER_MARKS, CHROMIUM, csp_violation, shot, sign_in

from serving import admin_init, serve
from waiting import wait_until

pytestmark = BROWSER_MARKS
EMAIL, PASSWORD = "owner@acme.example", "correct horse battery"


@pytest.fixture
def server(zhiku_home: Path) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    key = admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base:
        yield base, key


def test_groups_page_and_document_readers(server: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, key = server
    h = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=h, timeout=60) as api:
        assert api.post("/v1/kbs", json={"name": "hr"}).status_code == 201
        job = api.post("/v1/kbs/hr/documents", files=[
            ("files", ("salaries.md", b"# Salaries\n\nThe salary bands code is SB7710.\n",
                       "text/markdown"))]).json()
        wait_until(lambda: api.get(f"/v1/jobs/{job['id']}").json()["status"] == "done", 60,
                   "the upload to be indexed")
        reader = api.post("/v1/keys", json={"name": "payroll-bot", "access": "read"}).json()
    read = {"Authorization": f"Bearer {reader['key']}"}

    def reader_sees() -> bool:
        r = httpx.post(f"{base}/v1/search", headers=read, timeout=60,
                       json={"query": "salary bands code", "knowledge_bases": ["hr"]})
        return "SB7710" in r.text

    assert reader_sees()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800},
                                   locale="en-US").new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: csp_violation(m, errors))
        sign_in(page, base)
        page.get_by_role("navigation").get_by_role("link", name="Groups").click()
        expect(page.get_by_role("heading", name="Groups of readers", level=1)).to_be_visible()
        page.get_by_label("Name", exact=True).fill("payroll")
        page.get_by_label("Description").fill("Salaries and bonuses")
        page.get_by_role("button", name="Create group").click()
        card = page.locator("section.group[data-group='payroll']")
        expect(card).to_be_visible()
        card.get_by_label("A user or an API key").select_option(label="key: payroll-bot ("
                                                                + reader["prefix"] + ")")
        card.get_by_role("button", name="Add", exact=True).click()
        expect(card.locator("ul.members li")).to_contain_text("payroll-bot")
        shot(page, "groups-en-1280")

        page.goto(base + "/#/kbs/hr")
        row = page.locator("tr[data-doc='salaries.md']")
        expect(row.locator("td.readers")).to_have_text("Everyone")
        row.get_by_role("checkbox").check()
        page.get_by_role("button", name="Set readers").click()
        dlg = page.locator("dialog.modal")
        dlg.get_by_label("Only administrators and these groups:").check()
        dlg.locator("input[data-group='payroll']").check()
        dlg.get_by_role("button", name="Save").click()
        expect(row.locator("td.readers")).to_have_text("payroll")
        assert reader_sees()  # a member of payroll
        with httpx.Client(base_url=base, headers=h, timeout=60) as api:
            api.delete(f"/v1/groups/{api.get('/v1/groups').json()[0]['id']}"
                       f"/members/keys/{reader['id']}")
        assert not reader_sees()

        page.locator("#lang").select_option("zh")
        page.goto(base + "/#/groups")
        expect(page.get_by_role("heading", name="读者权限组", level=1)).to_be_visible()
        expect(page.locator("section.group[data-group='payroll']")).to_contain_text("没有成员")
        shot(page, "groups-zh-1280")
        page.goto(base + "/#/kbs/hr")
        row = page.locator("tr[data-doc='salaries.md']")
        expect(row.locator("td.readers")).to_have_text("payroll")
        row.get_by_role("checkbox").check()
        page.get_by_role("button", name="设置可读者").click()
        page.locator("dialog.modal").get_by_role("button", name="保存").click()
        expect(row.locator("td.readers")).to_have_text("所有人")
        assert reader_sees()
        assert not errors, errors
        browser.close()
