"""The console's sources page in real headless Chromium against a real ``zhiku serve``: add a
folder source, sync it and watch its run finish, change the folder and sync again, read the
run history; screenshots of the page."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_support import (
    ARGS,
    BROWSER_MARKS,
    CHROMIUM,
    EMAIL,
    PASSWORD,
    expect,
    shot,
    sync_playwright,
)

from serving import admin_init, serve

pytestmark = BROWSER_MARKS


@pytest.fixture
def share(tmp_path: Path) -> Path:
    root = tmp_path / "shares" / "hr"
    root.mkdir(parents=True)
    (root / "leave.md").write_text("# Leave\n\nStaff get twenty days of leave.\n")
    (root / "travel.md").write_text("# Travel\n\nTrains are booked in second class.\n")
    return root


@pytest.fixture
def server(zhiku_home: Path, share: Path) -> Iterator[str]:
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false", "ZHIKU_SOURCES_FOLDER_ROOTS": json.dumps([str(share.parent)])}
    admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base:
        yield base


def test_sources_page(server: str, share: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800},
                                   locale="en-US").new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + "/", wait_until="networkidle")
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password", exact=True).press("Enter")
        expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()
        page.get_by_label("Name").fill("hr")
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("heading", name="hr", exact=True)).to_be_visible()

        page.get_by_role("link", name="Sources").click()
        expect(page.get_by_role("heading", name="Sources", exact=True)).to_be_visible()
        page.get_by_label("Name").fill("handbook")
        page.get_by_label("Settings (JSON)").fill(json.dumps({"path": str(share)}))
        page.get_by_label("Schedule (cron, UTC; optional)").fill("0 3 * * *")
        page.get_by_role("button", name="Create").click()
        row = page.locator("tr[data-source='handbook']")
        expect(row).to_contain_text("never")
        row.get_by_role("button", name="Sync now").click()
        expect(row.locator(".last-run")).to_contain_text("done · 2 added", timeout=60_000)

        (share / "leave.md").write_text("# Leave\n\nStaff get thirty days of leave.\n")
        (share / "travel.md").unlink()
        row.get_by_role("button", name="Sync now").click()
        expect(row.locator(".last-run")).to_contain_text("1 updated, 0 unchanged, 1 removed",
                                                         timeout=60_000)
        shot(page, "sources-1280")
        row.get_by_role("button", name="Runs").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.locator("tr[data-run]")).to_have_count(2)
        shot(page, "sources-runs-1280")
        browser.close()
    assert errors == []
