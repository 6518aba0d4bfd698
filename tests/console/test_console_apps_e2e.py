"""The console's app pages end to end in real headless Chromium against a real ``zhiku serve``:
a workflow built on the canvas from the palette (start → template → answer), a bad template
variable shown on its node, fixed, saved, run with the node events streaming, replayed,
exported and imported, published; an OpenAPI tool source registered (its secret never shown
back); an agent created and tried once against the scripted OpenAI-compatible server (a
calculator call, then the answer); the apps list; screenshots of each page in English and
Chinese at 1280×800 and 390×844."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_support import (
    ARGS,
    BROWSER_MARKS,
    CHROMIUM,
    EMAIL,
    PASSWORD,
    Page,
    csp_violation,
    expect,
    shot,
    sign_in,
    sync_playwright,
)

from scripted_llm import scripted_server
from serving import admin_init, serve
from zhiku.core.settings import Settings
from zhiku.service import Zhiku

HANDBOOK = ("# Employee handbook\n\n## Leave\n\nNew employees get fifteen days of paid annual "
            "leave.\n")
SECRET = "Bearer pets-s3cret-token"
ANSWER = "New employees get fifteen days of paid annual leave [1]. Six times seven is 42."
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1"},
    "paths": {"/pets/{petId}": {
        "parameters": [{"name": "petId", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "get": {"operationId": "getPet", "summary": "One pet by id"}}},
}

MCP_SERVER = """
from mcp.server.mcpserver import MCPServer

server = MCPServer("calc")


@server.tool()
def add(a: int, b: int) -> int:
    \"\"\"Add two integers.\"\"\"
    return a + b


if __name__ == "__main__":
    server.run()
"""
GROUNDED = {
    "nodes": [
        {"id": "start", "type": "start", "inputs": [{"name": "question"}]},
        {"id": "grounded", "type": "answer_grounded", "knowledge_bases": ["hr"],
         "question": "{{ start.question }}"},
        {"id": "answer", "type": "answer", "text": "{{ grounded.answer }}",
         "citations": "grounded.citations"},
    ],
    "edges": [{"source": "start", "target": "grounded"},
              {"source": "grounded", "target": "answer"}],
}

FETCHER = {  # an HTTP node to an internal address: the address guard refuses it
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "fetch", "type": "http", "url": "http://127.0.0.1:9/secret"},
        {"id": "answer", "type": "answer", "text": "{{ fetch.body }}"},
    ],
    "edges": [{"source": "start", "target": "fetch"}, {"source": "fetch", "target": "answer"}],
}

pytestmark = BROWSER_MARKS


@pytest.fixture
def site(zhiku_home: Path) -> Iterator[str]:
    """A served workspace with a knowledge base and a provider on the scripted server, whose
    model calls the calculator first and answers once it has the tool's result."""
    llm = scripted_server.ScriptedServer().start()

    def reply(req: dict[str, Any]) -> Any:
        if any(m.get("role") == "tool" for m in req.get("messages", [])):
            return scripted_server.Script(text=ANSWER)
        return scripted_server.Script(text="", tool_calls=[
            ("knowledge_search", '{"query": "paid annual leave"}'),
            ("calculator", '{"expression": "6*7"}')])

    llm.default = reply
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false", "ZHIKU_MCP_STDIO_COMMANDS": json.dumps([sys.executable])}
    key = admin_init(env, EMAIL, PASSWORD)
    try:
        with serve(env) as base:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                              timeout=30) as api:
                assert api.post("/v1/kbs", json={"name": "hr"}).status_code == 201
                job = api.post("/v1/kbs/hr/documents", files=[
                    ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
                for _ in range(300):
                    if api.get(f"/v1/jobs/{job['id']}").json()["status"] == "done":
                        break
                    time.sleep(0.1)
                made = api.post("/v1/workflows", json={"name": "HR answers", "slug": "hr-qa",
                                                       "definition": GROUNDED})
                assert made.status_code == 201, made.text
                made = api.post("/v1/workflows", json={"name": "Fetcher", "slug": "fetcher",
                                                       "definition": FETCHER})
                assert made.status_code == 201, made.text
            with Zhiku(Settings(home=zhiku_home, embedder="hashing"), workspace="acme") as zk:
                zk.add_provider("scripted", base_url=llm.url, models=["scripted-model"],
                                context_window=4096, max_retries=0)
            yield base
    finally:
        llm.stop()


def _drag(page: Page, source: str, target: str | None, dy: float = 0) -> None:
    """Press on ``source``, move in steps, release on ``target`` (or ``dy`` pixels lower)."""
    a = page.locator(source).bounding_box()
    assert a is not None
    x0, y0 = a["x"] + a["width"] / 2, a["y"] + a["height"] / 2
    if target is None:
        x1, y1 = x0, y0 + dy
    else:
        b = page.locator(target).bounding_box()
        assert b is not None
        x1, y1 = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()


def _form(page: Page, node: str) -> Any:
    return page.locator(f".wf-side .node-form[data-node='{node}']")


def _build_workflow(page: Page) -> None:
    """Start → template → answer from the palette; the template reads a missing input."""
    canvas = page.locator("svg.flow")
    expect(canvas.locator("g.node[data-node='start']")).to_be_visible()
    canvas.locator("g.node[data-node='start'] .box").click()
    expect(_form(page, "start")).to_be_visible()
    page.locator(".palette button[data-type='template']").click()
    expect(canvas.locator("g.node[data-node='template']")).to_be_visible()
    expect(canvas.locator("g.edge[data-from='start'][data-to='template']")).to_have_count(1)
    _form(page, "template").locator("[data-field='template'] textarea").fill(
        "Hello {{ start.nam }}!")
    page.locator(".palette button[data-type='answer']").click()
    expect(canvas.locator("g.edge[data-from='template'][data-to='answer']")).to_have_count(1)
    # the variable picker lists what the answer node may read: the template's and start's outputs
    picker = _form(page, "answer").locator("[data-field='text'] select.var-pick")
    expect(picker.locator("option[value='template.text']")).to_have_count(1)
    expect(picker.locator("option[value='start.question']")).to_have_count(1)
    picker.select_option("template.text")
    expect(_form(page, "answer").locator("[data-field='text'] textarea")).to_have_value(
        "{{ template.text }}")


def test_workflow_agent_and_tool_sources(site: str, tmp_path: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US",
                                  accept_downloads=True)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: csp_violation(m, errors))
        asked: list[str] = []

        def answer(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.on("dialog", answer)
        sign_in(page, site)

        # the apps page: empty, a workflow created from it
        page.get_by_role("navigation").get_by_role("link", name="Apps").click()
        expect(page.get_by_role("heading", name="Apps", exact=True, level=1)).to_be_visible()
        expect(page.locator("link#apps-css")).to_have_count(1)
        form = page.locator("form.new-app")
        form.get_by_label("Name").fill("Greeter")
        form.get_by_role("button", name="Create").click()
        expect(page).to_have_url(re.compile(r"#/workflows/greeter$"))
        expect(page.get_by_role("heading", name="Greeter", level=1)).to_be_visible()

        # build it on the canvas; saving shows the bad variable on its node and field
        _build_workflow(page)
        page.get_by_role("button", name="Save draft").click()
        bad = page.locator("svg.flow g.node[data-node='template']")
        expect(bad).to_have_class(re.compile(r"\binvalid\b"))
        expect(page.locator(".wf-problems")).to_contain_text("template")
        page.locator(".wf-problems button.link", has_text="template").first.click()
        error = _form(page, "template").locator("[data-field='template'] .field-error")
        expect(error).to_contain_text("nam")
        shot(page, "apps-workflow-invalid-1280", settle_ms=200)
        _form(page, "template").locator("[data-field='template'] textarea").fill(
            "Hello {{ start.question }}!")
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator("#toast")).to_contain_text("Saved")
        expect(page.locator("svg.flow g.node.invalid")).to_have_count(0)
        expect(page.locator(".dirty")).to_have_text("")

        # keyboard: a node is reachable and selectable; the canvas pans and zooms
        page.locator("svg.flow g.node[data-node='answer']").focus()
        page.keyboard.press("Enter")
        expect(_form(page, "answer")).to_be_visible()
        before = page.locator("svg.flow > g").get_attribute("transform")
        page.locator("svg.flow").focus()
        page.keyboard.press("+")
        assert page.locator("svg.flow > g").get_attribute("transform") != before

        # disconnect from the side panel, connect again by dragging a handle onto a node
        page.locator("svg.flow g.node[data-node='template'] .box").click()
        _form(page, "template").wait_for()
        page.locator(".edge-list li[data-edge='template>answer']").get_by_role(
            "button", name="Disconnect").click()
        edge = page.locator("svg.flow g.edge[data-from='template'][data-to='answer']")
        expect(edge).to_have_count(0)
        _drag(page, "svg.flow g.node[data-node='template'] .handle[data-handle='out'] circle",
              "svg.flow g.node[data-node='answer'] .box")
        expect(edge).to_have_count(1)
        node = page.locator("svg.flow g.node[data-node='answer']")
        moved_from = node.get_attribute("transform")
        _drag(page, "svg.flow g.node[data-node='answer'] .title", None, dy=90)
        assert node.get_attribute("transform") != moved_from
        kept = page.evaluate("localStorage.getItem('zhiku.wf.pos.greeter')")
        assert kept and "answer" in json.loads(kept)
        expect(page.locator(".dirty")).to_have_text("Unsaved changes")

        # run the draft (saved first): node events stream into the panel and onto the canvas
        page.locator("#run-in-question").fill("Ada")
        page.get_by_role("button", name="Run draft").click()
        expect(page.locator(".dirty")).to_have_text("")
        panel = page.locator(".run-panel")
        for node in ("start", "template", "answer"):
            expect(panel.locator(f".run-node[data-node='{node}']")).to_have_attribute(
                "data-status", "succeeded")
        expect(panel.locator(".answer-box")).to_have_text("Hello Ada!")
        expect(panel.locator(".run-node[data-node='template'] .io")).to_contain_text("Hello Ada!")
        expect(panel.locator(".run-node[data-node='template'] details summary").first).to_have_text(
            "Inputs")
        expect(page.locator("svg.flow g.node[data-node='answer']")).to_have_class(
            re.compile(r"st-succeeded"))
        expect(panel.locator("tr[data-run]")).to_have_count(1)
        page.locator(".run-panel").scroll_into_view_if_needed()
        shot(page, "apps-workflow-run-1280", settle_ms=200)
        panel.locator("tr[data-run]").first.get_by_role("button", name="Replay").click()
        expect(panel.locator("tr[data-run]")).to_have_count(2)
        expect(panel.locator(".answer-box")).to_have_text("Hello Ada!")

        # export to a file, import an edited copy from a file and from the JSON text box
        with page.expect_download() as got:
            page.get_by_role("button", name="Export JSON").click()
        exported = json.loads(Path(got.value.path()).read_text(encoding="utf-8"))
        assert [n["id"] for n in exported["nodes"]] == ["start", "template", "answer"]
        assert {(e["source"], e["target"]) for e in exported["edges"]} == {
            ("start", "template"), ("template", "answer")}
        exported["nodes"][2]["title"] = "Final reply"
        (tmp_path / "wf.json").write_text(json.dumps(exported), encoding="utf-8")
        page.locator("#wf-import").set_input_files(str(tmp_path / "wf.json"))
        expect(page.locator("svg.flow g.node[data-node='answer'] .title")).to_have_text(
            "Final reply")
        expect(page.locator(".dirty")).to_have_text("Unsaved changes")
        page.get_by_role("button", name="Edit as JSON").click()
        box = page.locator("dialog.modal textarea")
        assert json.loads(box.input_value())["nodes"][2]["title"] == "Final reply"
        exported["nodes"][1]["title"] = "Greeting"
        box.fill(json.dumps(exported))
        page.locator("dialog.modal").get_by_role("button", name="Apply").click()
        expect(page.locator("svg.flow g.node[data-node='template'] .title")).to_have_text(
            "Greeting")
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator(".dirty")).to_have_text("")
        page.get_by_role("button", name="Publish").click()
        expect(page.locator("tr[data-version='1']")).to_be_visible()
        # renaming a node carries its edges and the references to it along
        page.evaluate("window.scrollTo(0, 0)")
        page.locator("svg.flow g.node[data-node='template'] .box").click()
        _form(page, "template").get_by_label("Node id").fill("greet")
        _form(page, "template").get_by_label("Node id").press("Tab")
        renamed = page.locator("svg.flow g.edge[data-from='greet'][data-to='answer']")
        expect(renamed).to_have_count(1)
        page.locator("svg.flow g.node[data-node='answer'] .box").click()
        expect(_form(page, "answer").locator("[data-field='text'] textarea")).to_have_value(
            "{{ greet.text }}")
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator(".dirty")).to_have_text("")
        page.locator("svg.flow g.node[data-node='greet'] .box").click()
        shot(page, "apps-workflow-1280", settle_ms=200)

        # a grounded answer node: the answer streams, its citations show
        page.goto(site + "/#/workflows/hr-qa")
        expect(page.get_by_role("heading", name="HR answers", level=1)).to_be_visible()
        page.locator("#run-in-question").fill(
            "How many days of paid annual leave do new employees get?")
        page.get_by_role("button", name="Run draft").click()
        expect(panel.locator(".run-node[data-node='answer']")).to_have_attribute(
            "data-status", "succeeded", timeout=30_000)
        expect(panel.locator(".answer-box")).to_have_text(
            "New employees get fifteen days of paid annual leave. [1]")
        expect(panel.locator(".run-node[data-node='grounded'] pre.live")).to_contain_text(
            "fifteen")
        expect(panel.locator(".run-cites")).to_contain_text("handbook.md")
        page.locator(".run-panel").scroll_into_view_if_needed()
        shot(page, "apps-workflow-citations-1280", settle_ms=200)
        # a failing node: its error in the panel and on the canvas, the run failed
        page.goto(site + "/#/workflows/fetcher")
        expect(page.get_by_role("heading", name="Fetcher", level=1)).to_be_visible()
        expect(panel.locator(".run-inputs")).to_contain_text("declares no inputs")
        page.get_by_role("button", name="Run draft").click()
        failed = panel.locator(".run-node[data-node='fetch']")
        expect(failed).to_have_attribute("data-status", "failed", timeout=30_000)
        expect(failed.locator(".error").first).to_be_visible()
        expect(panel.locator(".run-status .badge")).to_have_text("failed")
        expect(page.locator("svg.flow g.node[data-node='fetch']")).to_have_class(
            re.compile(r"st-failed"))
        page.goto(site + "/#/workflows/hr-qa")
        expect(page.get_by_role("heading", name="HR answers", level=1)).to_be_visible()

        # leaving with unsaved edits asks first
        page.locator("svg.flow g.node[data-node='answer'] .box").click()
        _form(page, "answer").locator("[data-field='title'] input").fill("Reply")
        page.locator(".crumbs").get_by_role("link", name="Apps").click()
        expect(page.get_by_role("heading", name="Apps", exact=True, level=1)).to_be_visible()
        assert asked and "Unsaved changes" in asked[-1], asked

        # a tool source: an OpenAPI spec pasted, with an auth header that is never shown back
        page.goto(site + "/#/apps")
        page.get_by_role("link", name="Tool sources").click()
        expect(page.get_by_role("heading", name="Tool sources", level=1)).to_be_visible()
        src = page.locator("form.source-form")
        src.get_by_label("Name", exact=True).fill("pets")
        src.get_by_label("Spec", exact=True).select_option("paste")
        src.get_by_label("OpenAPI spec (JSON)").fill(json.dumps(SPEC))
        src.get_by_label("Base URL").fill("https://pets.example.com")
        src.get_by_label("Auth header value").fill(SECRET)
        src.get_by_role("button", name="Register").click()
        row = page.locator("tr[data-source='pets']")
        expect(row).to_contain_text("Authorization: stored encrypted")
        expect(src.get_by_label("Auth header value")).to_have_value("")
        row.get_by_role("button", name="Tools").click()
        expect(page.locator("tr[data-tools='pets']")).to_contain_text("pets__getPet")
        assert SECRET not in page.content()
        # an MCP server run over stdio, with a secret environment value
        (tmp_path / "mcp_calc.py").write_text(MCP_SERVER, encoding="utf-8")
        src.get_by_label("Name", exact=True).fill("calc")
        src.get_by_label("Kind").select_option("mcp")
        src.get_by_label("Command", exact=True).fill(sys.executable)
        src.get_by_label("Arguments").fill(str(tmp_path / "mcp_calc.py"))
        src.get_by_label("Environment (NAME=value)").fill("CALC_TOKEN=mcp-s3cret")
        src.get_by_role("button", name="Register").click()
        row = page.locator("tr[data-source='calc']")
        expect(row).to_contain_text("CALC_TOKEN: stored encrypted")
        row.get_by_role("button", name="Tools").click()
        expect(page.locator("tr[data-tools='calc']")).to_contain_text("calc__add",
                                                                      timeout=30_000)
        assert "mcp-s3cret" not in page.content()
        shot(page, "apps-tool-sources-1280", settle_ms=200)

        # an agent: the calculator and the source's tool offered; tried once, streaming
        page.goto(site + "/#/apps")
        page.get_by_role("link", name="New agent").click()
        expect(page.get_by_role("heading", name="New agent", level=1)).to_be_visible()
        agent = page.locator("form.agent-form")
        agent.get_by_label("Name", exact=True).fill("Calc agent")
        agent.get_by_label("Instructions").fill("Use the calculator for arithmetic.")
        agent.get_by_label("Model", exact=True).fill("scripted/scripted-model")
        agent.get_by_label("hr").check()
        expect(agent.locator("[data-source='pets']")).to_contain_text("pets__getPet")
        agent.locator("input[name=tool][value='calculator']").check()
        agent.get_by_role("button", name="Create").click()
        expect(page).to_have_url(re.compile(r"#/agents/calc-agent$"))
        expect(page.get_by_role("heading", name="Calc agent", level=1)).to_be_visible()
        expect(agent.locator("input[name=tool][value='calculator']")).to_be_checked()
        chat = page.locator(".try-it")
        chat.get_by_role("textbox", name="Message").fill("What is 6 times 7?")
        chat.get_by_role("textbox", name="Message").press("Enter")
        reply = chat.locator(".msg.assistant").last
        expect(reply).to_have_attribute("data-stop", "answered", timeout=30_000)
        calls = reply.locator(".agent-step[data-step='1'] .call")
        expect(calls).to_have_count(2)
        expect(calls.nth(0)).to_contain_text("knowledge_search")
        expect(calls.nth(0).locator(".result")).to_contain_text("fifteen days")
        expect(calls.nth(1)).to_contain_text("calculator")
        expect(calls.nth(1).locator(".result")).to_contain_text("42")
        expect(reply.locator(".bubble")).to_have_text(ANSWER)
        expect(reply.locator(".sources")).to_contain_text("handbook.md")
        expect(reply).to_contain_text("Answered · 2 steps")
        shot(page, "apps-agent-1280", settle_ms=200)
        page.get_by_role("button", name="Publish").click()
        expect(page.locator("tr[data-version='1']")).to_contain_text("live")

        # the apps list: every kind, filterable
        page.get_by_role("navigation").get_by_role("link", name="Apps").click()
        expect(page.locator("tr[data-app='workflow:greeter']")).to_contain_text("live v1")
        expect(page.locator("tr[data-app='agent:calc-agent']")).to_contain_text("Agent")
        page.locator("#apps-kind").select_option("agent")
        expect(page.locator("tr[data-app]")).to_have_count(1)
        page.locator("#apps-kind").select_option("all")
        shot(page, "apps-list-1280", settle_ms=200)
        assert not errors, errors

        # every page in Chinese, and at phone width in both languages
        pages = (("#/apps", "list", {"en": "Apps", "zh": "应用"}),
                 ("#/workflows/greeter", "workflow", {"en": "Greeter", "zh": "Greeter"}),
                 ("#/agents/calc-agent", "agent", {"en": "Calc agent", "zh": "Calc agent"}),
                 ("#/tool-sources", "tool-sources", {"en": "Tool sources", "zh": "工具来源"}))
        page.get_by_label("Language", exact=True).select_option("zh")
        for route, name, heading in pages:
            page.goto(f"{site}/{route}")
            expect(page.get_by_role("heading", name=heading["zh"], exact=True,
                                    level=1)).to_be_visible()
            if name == "workflow":
                expect(page.locator(".palette")).to_contain_text("知识检索")
                page.wait_for_timeout(300)
            shot(page, f"apps-{name}-zh-1280", settle_ms=200)
        for lang, locale in (("zh", "zh-CN"), ("en", "en-US")):
            phone = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale,
                                        is_mobile=True, has_touch=True)
            phone.add_cookies(ctx.cookies())
            p2 = phone.new_page()
            p2.on("pageerror", lambda e: errors.append(str(e)))
            p2.on("console", lambda m: csp_violation(m, errors))
            p2.goto(site + "/")
            # the first page settles (its redirect to #/kbs done) before the next navigation
            expect(p2.get_by_role("heading", level=1)).to_be_visible()
            p2.evaluate(f"localStorage.setItem('zhiku.lang', '{lang}')")
            for route, name, heading in pages:
                p2.goto(f"{site}/{route}")
                p2.reload()
                expect(p2.get_by_role("heading", name=heading[lang], exact=True,
                                      level=1)).to_be_visible()
                p2.wait_for_timeout(300)
                width = p2.evaluate("document.documentElement.scrollWidth")
                assert width <= 390, f"{name} ({lang}) overflows at phone width: {width}px"
                shot(p2, f"apps-{name}-{lang}-390", settle_ms=200)
            phone.close()
        assert not errors, errors
        browser.close()
