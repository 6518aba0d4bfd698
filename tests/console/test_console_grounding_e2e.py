"""The console's chat view and assistant editor in real headless Chromium against a real
``zhiku serve``: an uncited model answer (scripted OpenAI-compatible server on 127.0.0.1) is
shown with a warning under ``warn``; the editor switches the assistant to ``extractive`` and the
preview chat then shows the replacement, cited, with a note."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from console_support import ARGS, BROWSER_MARKS, CHROMIUM, EMAIL, PASSWORD, expect, sync_playwright

from scripted_llm import scripted_server
from serving import admin_init, serve
from zhiku.core.settings import Settings
from zhiku.service import Zhiku

HANDBOOK = ("# Employee handbook\n\n## Leave\n\nNew employees get fifteen days of paid annual "
            "leave.\n\n## Expenses\n\nExpense claims need the original receipt.\n")
QUESTION = "How many days of paid annual leave do new employees get?"
UNCITED = "About two weeks, I believe."

pytestmark = BROWSER_MARKS


@pytest.fixture
def site(zhiku_home: Path) -> Iterator[str]:
    """A served workspace with the handbook and an LLM assistant ``bot`` (policy ``warn``)."""
    llm = scripted_server.ScriptedServer().start()
    llm.default = lambda req: scripted_server.Script(text=UNCITED)
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    key = admin_init(env, EMAIL, PASSWORD)
    try:
        with serve(env) as base:
            h = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base, headers=h, timeout=30) as api:
                assert api.post("/v1/kbs", json={"name": "hr"}).status_code == 201
                job = api.post("/v1/kbs/hr/documents", files=[
                    ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
                for _ in range(300):
                    if api.get(f"/v1/jobs/{job['id']}").json()["status"] == "done":
                        break
                    time.sleep(0.1)
                settings = Settings(home=zhiku_home, embedder="hashing")
                with Zhiku(settings, workspace="acme") as zk:
                    zk.add_provider("scripted", base_url=llm.url, models=["scripted-model"],
                                    context_window=4096, max_retries=0)
                r = api.post("/v1/assistants", json={"slug": "bot", "name": "Bot", "config": {
                    "knowledge_bases": ["hr"], "model": "scripted/scripted-model"}})
                assert r.status_code == 201, r.text
                yield base
    finally:
        llm.stop()


def test_warning_then_policy_change_in_the_editor(site: str) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.skip("no chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800},
                                   locale="en-US").new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(site + "/", wait_until="networkidle")
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()

        page.goto(site + "/#/chat/bot")
        expect(page.locator("#chat-assistant")).to_have_value("bot")
        box = page.locator(".chat-area").get_by_role("textbox", name="Message")
        box.fill(QUESTION)
        box.press("Enter")
        answer = page.locator(".msg.assistant[data-message]").last
        expect(answer).to_contain_text(UNCITED, timeout=30_000)
        expect(answer.locator(".warning")).to_contain_text("Not grounded: it cites nothing")
        # the stored conversation, reopened, still carries the warning
        page.locator(".history li button").first.click()
        expect(page.locator(".msg.assistant .warning").first).to_be_visible()

        page.goto(site + "/#/assistants/bot")
        policy = page.locator("select[name=on_ungrounded]")
        expect(policy).to_have_value("warn")
        policy.select_option("extractive")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#toast")).to_contain_text("Saved")
        expect(page.locator("select[name=on_ungrounded]")).to_have_value("extractive")
        preview = page.locator(".preview")
        box = preview.get_by_role("textbox", name="Message")
        box.fill(QUESTION)
        box.press("Enter")
        answer = preview.locator(".msg.assistant[data-message]").last
        expect(answer).to_contain_text("fifteen days", timeout=30_000)
        expect(answer).not_to_contain_text("believe")
        expect(answer.locator("button.cite").first).to_be_visible()
        expect(answer).to_contain_text("The model's answer was replaced (it cites nothing).")
        expect(answer.locator(".warning")).to_have_count(0)
        assert errors == []
        browser.close()
