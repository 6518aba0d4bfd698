"""The console's Models page and the assistant editor's model picker in real headless Chromium
against a real ``zhiku serve`` in a workspace made by ``zhiku admin init --workspace 智库演示``:
add a provider from a preset with a pasted key (never shown again, only its last characters),
test it against the scripted OpenAI-compatible server on 127.0.0.1 (latency; then a 401 shown
as the provider's exact error, key masked), choose the default chat model, and pick models in
the assistant editor. Screenshots in English and Chinese: docs/screenshots/models-*.png."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_support import ARGS, BROWSER_MARKS, CHROMIUM, expect, shot, sync_playwright

from scripted_llm import scripted_server
from serving import admin_init, serve

EMAIL, PASSWORD = "owner@demo.example", "correct horse battery"
WORKSPACE = "智库演示"
KEY = "sk-console-0123456789abcdef-PASTE"

pytestmark = BROWSER_MARKS


@pytest.fixture
def llm() -> Iterator[Any]:
    server = scripted_server.ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
def site(zhiku_home: Path) -> Iterator[tuple[str, str]]:
    """``zhiku serve`` over a new workspace (not ``default``) with one knowledge base."""
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false", "ZHIKU_API_URL_ALLOWLIST": '["127.0.0.1"]'}
    key = admin_init(env, EMAIL, PASSWORD, WORKSPACE)
    with serve(env) as base:
        r = httpx.post(base + "/v1/kbs", json={"name": "hr"},
                       headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 201, r.text
        yield base, key


def test_models_page_and_picker(site: tuple[str, str], llm: Any) -> None:
    base, admin_key = site
    Script = scripted_server.Script
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: d.accept())
        page.goto(base + "/", wait_until="networkidle")
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Workspace (optional)").fill(WORKSPACE)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()

        # add DeepSeek from its preset, pointed at the scripted server, with a pasted key
        page.get_by_role("navigation").get_by_role("link", name="Models").click()
        expect(page.get_by_role("heading", name="Models", exact=True)).to_be_visible()
        expect(page.locator("main")).to_contain_text("No provider yet")
        form = page.get_by_role("form", name="Add a provider")
        form.get_by_label("Preset").select_option(label="DeepSeek")
        expect(form.get_by_label("Name")).to_have_value("deepseek")
        expect(form.get_by_label("Models (one per line)")).to_have_value(
            "deepseek-chat\ndeepseek-reasoner")
        form.get_by_label("Base URL").fill(llm.url)
        key_input = form.get_by_label("API key")
        assert key_input.get_attribute("type") == "password"
        key_input.fill(KEY)
        form.get_by_role("button", name="Create").click()
        row = page.locator("tr[data-provider='deepseek']")
        result = page.locator("output[data-test-result='deepseek']")
        expect(row).to_contain_text("…ASTE")
        assert KEY not in page.content()
        fresh = page.get_by_role("form", name="Add a provider")
        expect(fresh.get_by_label("API key")).to_have_value("")

        # the default chat model
        page.locator("#default-model").select_option("deepseek/deepseek-chat")
        page.get_by_role("button", name="Save default").click()
        expect(row).to_contain_text("deepseek-chat · default")

        # test: latency, then the provider's own error for a refused key, key masked
        llm.push(Script(text="pong"))
        row.get_by_role("button", name="Test").click()
        expect(result).to_contain_text(" ms")
        expect(result).to_contain_text("OK")
        refusal = json.dumps({"error": {"message": f"Authentication Fails, your key {KEY}"}})
        llm.push(Script(status=401, body=refusal))
        row.get_by_role("button", name="Test").click()
        expect(result).to_contain_text("HTTP 401")
        expect(result).to_contain_text("Authentication Fails, your key ****")
        assert KEY not in page.content()
        shot(page, "models-en", full_page=True)

        # editing never fills the key in: the stored one is kept unless replaced
        row.get_by_role("button", name="Edit").click()
        edit = page.get_by_role("form", name="Edit provider deepseek")
        expect(edit.get_by_label("API key")).to_have_value("")
        expect(edit).to_contain_text("keep the stored key (…ASTE)")
        edit.get_by_label("Models (one per line)").fill("deepseek-chat\ndeepseek-reasoner\nextra")
        edit.get_by_role("button", name="Save").click()
        expect(page.locator("tr[data-provider='deepseek']")).to_contain_text("extra")
        expect(page.locator("tr[data-provider='deepseek']")).to_contain_text("…ASTE")

        # the assistant editor's pickers: the workspace's models, the default preselected
        r = httpx.post(base + "/v1/providers", headers={"Authorization": f"Bearer {admin_key}"},
                       json={"name": "rr", "kind": "rerank", "base_url": llm.url,
                             "models": ["bge-reranker"]})
        assert r.status_code == 201, r.text
        page.goto(base + "/#/assistants")
        picker = page.locator("select[name='model']")
        expect(picker).to_have_value("deepseek/deepseek-chat")
        options = picker.locator("option").all_inner_texts()
        assert options[0] == "extractive (no model)"
        assert "deepseek/deepseek-chat (default)" in options and "deepseek/extra" in options
        reranker = page.locator("select[name='reranker']")
        expect(reranker).to_have_value("")
        assert reranker.locator("option").all_inner_texts() == [
            "the knowledge base's reranker", "rr/bge-reranker"]
        page.get_by_label("Slug (id)").fill("helper")
        page.get_by_label("hr", exact=True).check()
        picker.select_option("deepseek/deepseek-reasoner")
        reranker.select_option("rr/bge-reranker")
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("heading", name="Edit: helper")).to_be_visible()
        expect(page.locator("select[name='model']")).to_have_value("deepseek/deepseek-reasoner")
        shot(page, "models-picker-en", full_page=True)
        made = httpx.get(base + "/v1/assistants/helper",
                         headers={"Authorization": f"Bearer {admin_key}"}).json()
        assert made["config"]["model"] == "deepseek/deepseek-reasoner"
        assert made["config"]["retrieval"]["reranker"] == "rr/bge-reranker"

        # Chinese
        page.locator("#lang").select_option("zh")
        expect(page.locator("select[name='model'] option").first).to_have_text("抽取式（不用模型）")
        shot(page, "models-picker-zh", full_page=True)
        page.get_by_role("navigation").get_by_role("link", name="模型").click()
        expect(page.get_by_role("heading", name="模型", exact=True)).to_be_visible()
        expect(page.locator("main")).to_contain_text("默认对话模型")
        shot(page, "models-zh", full_page=True)
        assert not errors, errors
        browser.close()
