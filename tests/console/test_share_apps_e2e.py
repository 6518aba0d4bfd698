"""Sharing a workflow in real headless Chromium against a real ``zhiku serve``: the workflow's
page has the Share section, and a visitor on the public page (no key, a signed identity with
a display name) gets the workflow's answer, run through the app surface."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from console_support import (
    ARGS,
    BROWSER_MARKS,
    CHROMIUM,
    EMAIL,
    PASSWORD,
    expect,
    sign_in,
    sync_playwright,
)

from serving import admin_init, serve
from zhiku.share.tokens import identity_signature

pytestmark = BROWSER_MARKS
FLOW = {"nodes": [{"id": "start", "type": "start", "inputs": [{"name": "q", "type": "string"}]},
                  {"id": "echo", "type": "template", "template": "You asked: {{ start.q }}"},
                  {"id": "end", "type": "end", "outputs": {"text": "echo.text"}}],
        "edges": [{"source": "start", "target": "echo"}, {"source": "echo", "target": "end"}]}


@pytest.fixture
def server(zhiku_home: Path) -> Iterator[str]:
    """``zhiku serve`` with a published chat-shaped workflow that needs no model."""
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    key = admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base:
        h = {"Authorization": f"Bearer {key}"}
        assert httpx.post(f"{base}/v1/workflows", headers=h, json={
            "name": "Echo desk", "slug": "echo", "definition": FLOW}).status_code == 201
        assert httpx.post(f"{base}/v1/apps/echo/publish", headers=h,
                          json={}).status_code == 200
        yield base


def test_a_workflow_is_shared_from_its_page(server: str) -> None:
    base = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        errors: list[str] = []
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script("localStorage.setItem('zhiku.lang', 'en')")
        sign_in(page, base)
        page.goto(base + "/#/workflows/echo")
        section = page.locator("section.share-links")
        expect(section.get_by_role("heading", name="Share", exact=True)).to_be_visible()
        section.get_by_label("Label").fill("Front desk")
        section.locator("form.share-form button[type=submit]").click()
        issued = section.locator("[data-issued]")
        expect(issued).to_be_visible()
        url, _, _, secret = issued.locator("input.secret").evaluate_all(
            "els => els.map(e => e.value)")
        expect(section.locator("tr[data-link]")).to_contain_text("Front desk")

        visitor_ctx = browser.new_context(viewport={"width": 900, "height": 700},
                                          locale="en-US")
        visitor = visitor_ctx.new_page()
        visitor.on("pageerror", lambda e: errors.append(str(e)))
        exp = int(time.time()) + 300
        query = urlencode({"user": "e1024@corp", "name": "Wang Xiaoming", "exp": exp,
                           "sig": identity_signature(secret, "e1024@corp", exp,
                                                     "Wang Xiaoming")})
        visitor.goto(f"{url}#lang=en&{query}", wait_until="networkidle")
        expect(visitor.get_by_role("heading", name="Echo desk")).to_be_visible()
        expect(visitor.locator(".who")).to_contain_text("Wang Xiaoming")
        visitor.get_by_label("Your question").fill("where is room 4?")
        visitor.get_by_label("Your question").press("Enter")
        expect(visitor.locator(".msg.assistant").last).to_contain_text(
            "You asked: where is room 4?", timeout=30_000)
        visitor_ctx.close()
        assert not errors, errors
        browser.close()
