"""The web console end to end in real headless Chromium (Debian's ``chromium``, driven by
Playwright for Python — no browser download) against a real ``zhiku serve`` on 127.0.0.1:
sign in, create a knowledge base, upload three files of different types and watch them finish,
search, create an assistant, ask a question, open a citation, give feedback, see it in usage.
Measures the first load's page weight and saves screenshots of the main pages."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    sync_playwright,
)

from serving import admin_init, serve

MAX_FIRST_LOAD = 500 * 1024

pytestmark = BROWSER_MARKS

HANDBOOK = (
    "# Employee handbook\n\n## Leave\n\nNew employees get fifteen days of paid annual leave. "
    "Leave requests go to the line manager two weeks in advance.\n\n## Expenses\n\n"
    "Expense claims need the original receipt and the project code. Claims are paid monthly.\n"
)
OFFICES = ("city,office,staff\nBerlin,Alexanderplatz,120\nShanghai,Pudong,340\n"
           "Austin,Congress Ave,85\n")


def _docx() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading("Security policy", level=1)
    doc.add_paragraph("Laptops must use full-disk encryption. Passwords are rotated every ninety "
                      "days and never shared.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for text in ("Refund policy\n\nRefunds are issued within fourteen days of the return.",
                 "Exchanges\n\nExchanges are free for members of the loyalty club."):
        pdf.add_page()
        pdf.multi_cell(0, 9, text)
    return bytes(pdf.output())


ORG = (
    "# Acme Group\n\nAcme Group was founded in Berlin by Anna Schmidt. Anna Schmidt hired "
    "Li Wei in Shanghai. Li Wei leads the Shanghai Office of Acme Group. The Berlin Office "
    "works with the Shanghai Office and with Globex Corporation.\n\n## Partners\n\n"
    "Globex Corporation supplies Acme Group. Anna Schmidt met Hank Scorpio of Globex "
    "Corporation in Berlin.\n"
)
EVAL_SET = "\n".join(json.dumps(q) for q in (
    {"id": "leave", "question": "How many days of paid annual leave do new employees get?",
     "expected_sources": ["handbook.md"], "reference_answers": ["fifteen days"]},
    {"id": "receipts", "question": "What do expense claims need?",
     "expected_sources": ["handbook.md"], "reference_answers": ["the original receipt"]},
    {"id": "moon", "question": "Who runs the moon office?", "answerable": False},
))


@pytest.fixture
def server(zhiku_home: Path) -> Iterator[str]:
    """``zhiku admin init`` then ``zhiku serve`` on a free port (as tests/api do)."""
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base:
        yield base


def test_console_end_to_end(server: str, tmp_path: Path) -> None:
    files = {"handbook.md": HANDBOOK.encode(), "offices.csv": OFFICES.encode(),
             "security.docx": _docx(), "policy.pdf": _pdf()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: csp_violation(m, errors))
        page.on("dialog", lambda d: d.accept())

        # first load: every response's body, summed
        weights: dict[str, int] = {}

        def weigh(resp: Any) -> None:
            try:
                weights[resp.url] = len(resp.body())
            except Exception:  # redirects have no body
                weights[resp.url] = 0

        page.on("response", weigh)
        page.goto(server + "/", wait_until="networkidle")
        page.remove_listener("response", weigh)
        first_load = sum(weights.values())
        print(f"first load: {first_load} bytes in {len(weights)} responses")
        assert first_load <= MAX_FIRST_LOAD, weights
        assert all(u.startswith(server) for u in weights), "nothing may come from elsewhere"

        # sign in (a wrong password first: the API's error is shown)
        expect(page.get_by_role("heading", name="Sign in to Zhiku")).to_be_visible()
        shot(page, "signin-1280")
        page.keyboard.press("Tab")  # focus moves to the content on navigation: the e-mail field
        assert page.evaluate("document.activeElement.name") == "email"
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".login .error").first).to_contain_text("Failed")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password", exact=True).press("Enter")
        expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()
        # the session is an HttpOnly, SameSite=Strict cookie: no script can read it
        assert page.evaluate("localStorage.getItem('zhiku.token')") is None
        assert "zhiku_session" not in page.evaluate("document.cookie")
        session = next(c for c in ctx.cookies() if c["name"] == "zhiku_session")
        assert session["httpOnly"] and session["sameSite"] == "Strict"

        # create a knowledge base
        page.get_by_label("Name").fill("hr")
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("heading", name="hr", exact=True)).to_be_visible()

        # upload three files of different types; each shows live progress until done
        page.locator("#file-input").set_input_files([str(tmp_path / n) for n in files])
        for name in files:
            row = page.locator(f"li.upload[data-file='{name}']")
            expect(row).to_have_class("upload ok", timeout=60_000)
            expect(row.locator(".state")).to_contain_text("done")
        for name in files:
            expect(page.locator(f"tr[data-doc='{name}']")).to_be_visible()
        expect(page.locator("tr[data-doc] .badge.ready")).to_have_count(4, timeout=30_000)
        shot(page, "documents-1280")
        # URL ingestion: an internal address is refused with a clear message
        page.locator(".url-form summary").click()
        page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/secret")
        page.get_by_role("button", name="Fetch and ingest").click()
        expect(page.locator(".url-form .error")).to_contain_text("internal address")
        page.goto(server + "/#/kbs")
        expect(page.locator("table")).to_contain_text("hr")
        shot(page, "kbs-1280")

        # search: scores per retriever, highlighted terms
        page.get_by_role("navigation").get_by_role("link", name="Search").click()
        page.get_by_label("Query").fill("paid annual leave")
        page.get_by_role("button", name="Search", exact=True).click()
        first = page.locator("li.hit").first
        expect(first).to_contain_text("handbook.md")
        expect(first.locator(".scores")).to_contain_text("Full-text")
        expect(first.locator(".scores")).to_contain_text("Vector")
        expect(first.locator(".scores")).to_contain_text("Fused")
        expect(first.locator("mark").first).to_be_visible()
        shot(page, "search-1280")

        # an assistant over the knowledge base, no model: extractive answers
        page.get_by_role("navigation").get_by_role("link", name="Assistants").click()
        page.get_by_label("Slug (id)").fill("hr-bot")
        page.get_by_label("Name").fill("HR bot")
        page.get_by_label("hr").check()
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("heading", name="Edit: HR bot")).to_be_visible()
        expect(page.locator("tr[data-assistant='hr-bot']")).to_contain_text("extractive")
        shot(page, "assistants-1280")

        # chat: a streamed answer with citations; open one; feedback
        page.get_by_role("navigation").get_by_role("link", name="Chat").click()
        # The assistant editor has a preview chat with its own "Message" box: wait until the
        # chat page has replaced it before typing.
        expect(page.locator("#chat-assistant")).to_have_value("hr-bot")
        box = page.locator(".chat-area").get_by_role("textbox", name="Message")
        box.fill("How many days of paid annual leave do new employees get?")
        box.press("Enter")
        answer = page.locator(".msg.assistant[data-message]").last
        expect(answer).to_contain_text("fifteen", timeout=30_000)
        marker = answer.locator("button.cite").first
        expect(marker).to_be_visible()
        marker.click()
        modal = page.locator("dialog.modal")
        expect(modal).to_be_visible()
        expect(modal.locator(".passage")).to_contain_text("fifteen days")
        modal.get_by_role("button", name="Show the whole document").click()
        expect(modal.locator(".chunk.cited")).to_be_visible()
        shot(page, "citation-1280")
        page.keyboard.press("Escape")
        expect(modal).to_have_count(0)
        answer.get_by_role("button", name="Helpful", exact=True).click()
        expect(answer.get_by_role("button", name="Helpful", exact=True)).to_have_attribute(
            "aria-pressed", "true")
        answer.get_by_role("button", name="Correction").click()
        answer.get_by_role("textbox", name="Correction").fill("Fifteen days, plus public holidays.")
        answer.get_by_role("button", name="Send feedback").click()
        expect(page.locator("#toast")).to_contain_text("feedback saved")
        expect(page.locator(".history li")).to_have_count(1)
        shot(page, "chat-1280")

        # usage: the request per assistant, and the feedback
        page.get_by_role("navigation").get_by_role("link", name="Usage").click()
        expect(page.locator("tr[data-group='hr-bot']")).to_be_visible()
        assert int(page.locator("tr[data-group='hr-bot'] td").nth(1).inner_text()) >= 1
        fb = page.locator("tr.feedback-row").first
        expect(fb).to_contain_text("Fifteen days, plus public holidays.")
        expect(fb).to_contain_text("hr-bot")
        chart = page.locator("#usage-chart")
        expect(chart.locator("svg.chart path.series")).to_have_count(1)
        expect(chart.locator(".legend")).to_contain_text("hr-bot")
        shot(page, "usage-1280")
        page.locator("#series-metric").select_option("latency")
        page.locator("#series-by").select_option("key")
        expect(chart.locator(".legend")).to_contain_text("signed-in users")

        # Chinese interface, switchable
        page.get_by_label("Language", exact=True).select_option("zh")
        expect(page.get_by_role("heading", name="用量")).to_be_visible()
        shot(page, "usage-zh-1280")
        page.get_by_label("语言", exact=True).select_option("en")

        # document view: the original and its chunks; disable a chunk and enable it again
        page.goto(server + "/#/kbs/hr")
        page.get_by_role("link", name="handbook.md").click()
        expect(page.get_by_role("heading", name="Employee handbook")).to_be_visible()
        chunk = page.locator("ol.chunks li").first
        expect(chunk).to_contain_text("Employee handbook › Leave")
        expect(page.locator("pre.original")).to_contain_text("# Employee handbook")
        page.locator(".meta-card summary").click()
        page.get_by_label("Tags", exact=True).fill("hr, policy")
        page.get_by_label("Metadata (a JSON object)").fill('{"owner": "people team"')
        page.locator(".meta-card").get_by_role("button", name="Save").click()
        expect(page.locator(".meta-card .error")).to_contain_text("JSON object")
        page.get_by_label("Metadata (a JSON object)").fill('{"owner": "people team"}')
        page.locator(".meta-card").get_by_role("button", name="Save").click()
        expect(page.locator("#toast")).to_contain_text("Saved")
        chunk.get_by_role("button", name="Disable").click()
        expect(page.locator("ol.chunks li").first).to_have_class("off")
        page.locator("ol.chunks li").first.get_by_role("button", name="Enable").click()
        expect(page.locator("ol.chunks li").first).not_to_have_class("off")
        shot(page, "document-1280")
        page.goto(server + "/#/kbs/hr")
        expect(page.locator("tr[data-doc='handbook.md'] .tag")).to_have_text(["hr", "policy"])
        page.get_by_role("link", name="policy.pdf").click()
        pdf_page = page.locator("img.pdf-page")
        expect(pdf_page).to_have_attribute("data-page", "1")
        page.get_by_role("button", name="Next").click()
        expect(pdf_page).to_have_attribute("data-page", "2")
        expect(page.locator(".page-of")).to_have_text("Page 2 / 2")
        assert pdf_page.evaluate("img => img.naturalWidth") > 100
        shot(page, "document-pdf-1280")

        # knowledge graph: a base that extracts while ingesting; search, expand, passages
        page.goto(server + "/#/kbs")
        page.get_by_label("Name").fill("org")
        page.get_by_label("Extract a knowledge graph").check()
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("heading", name="org", exact=True)).to_be_visible()
        (tmp_path / "org.md").write_text(ORG, encoding="utf-8")
        page.locator("#file-input").set_input_files(str(tmp_path / "org.md"))
        expect(page.locator("li.upload[data-file='org.md']")).to_have_class("upload ok",
                                                                           timeout=60_000)
        page.get_by_role("navigation").get_by_role("link", name="Graph").click()
        page.locator("#graph-kb").select_option("org")
        stage = page.locator(".graph-stage")
        expect(stage).not_to_have_attribute("data-nodes", "0")
        page.get_by_role("button", name="Clear").click()
        expect(stage).to_have_attribute("data-nodes", "0")
        page.get_by_label("Find an entity").fill("anna")
        page.get_by_label("Find an entity").press("Enter")
        results = page.locator(".entity-results")
        results.get_by_role("button", name=re.compile("Anna Schmidt")).click()
        panel = page.locator(".entity-panel")
        expect(panel.get_by_role("heading", name="Anna Schmidt")).to_be_visible()
        expect(stage).to_have_attribute("data-nodes", "1")
        panel.get_by_role("button", name="Expand neighbours").click()
        expect(stage).not_to_have_attribute("data-nodes", "1")
        assert int(stage.get_attribute("data-nodes") or 0) > 2
        relation = panel.locator("ul.relations > li").first
        relation.locator("summary").click()
        expect(relation.locator(".passage-item").first).to_contain_text("Anna Schmidt")
        page.locator(".graph-canvas").focus()
        page.keyboard.press("]")  # keyboard: step to a node
        expect(panel.locator("h2")).not_to_have_text("")
        page.wait_for_timeout(800)  # let the layout settle for the screenshot
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "graph-1280")

        # evaluation: a set from JSON Lines, two runs, their comparison, a run's failures
        page.get_by_role("navigation").get_by_role("link", name="Evaluation").click()
        page.locator("#set-name").fill("hr-smoke")
        page.locator("#set-jsonl").fill(EVAL_SET)
        page.locator(".new-set").get_by_role("button", name="Create").click()
        expect(page.locator("tr[data-set='hr-smoke']")).to_contain_text("3")
        for mode in ("hybrid", "keyword"):
            page.locator("#run-set").select_option("hr-smoke")
            page.locator("#run-target").select_option("kb:hr")
            page.locator("#run-mode").select_option(mode)
            page.get_by_role("button", name="Start a run").click()
            expect(page.locator("#toast")).to_contain_text("Run started")
        runs = page.locator("tr[data-run]")
        expect(runs).to_have_count(2)
        expect(runs.locator(".badge.ready")).to_have_count(2, timeout=30_000)
        shot(page, "evals-1280")
        page.get_by_role("button", name="Compare", exact=True).click()
        expect(page.locator("svg.chart")).to_be_visible()
        expect(page.locator("tr[data-metric='hit@10']")).to_be_visible()
        shot(page, "eval-compare-1280")
        page.locator(".crumbs").get_by_role("link", name="Evaluation").click()
        runs.last.get_by_role("link").click()
        expect(page.locator("svg.chart").first).to_be_visible()
        expect(page.locator("#res-h")).to_contain_text("Failing questions")
        page.get_by_label("Only failing").uncheck()
        expect(page.locator("li[data-question]")).to_have_count(3)
        page.locator("li[data-question='leave'] summary").click()
        expect(page.locator("li[data-question='leave']")).to_contain_text("fifteen days")
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "eval-run-1280")
        run_path = page.evaluate("location.hash")

        # publish the assistant: a version appears
        page.goto(server + "/#/assistants/hr-bot")
        page.get_by_role("button", name="Publish").click()
        expect(page.locator("tr[data-assistant='hr-bot']")).to_contain_text("Published version 1")

        # workspace admin: a scoped key shown once, then revoked; a member invited
        page.get_by_role("navigation").get_by_role("link", name="Workspace").click()
        keys = page.locator("section[aria-labelledby='keys-h']")
        keys.get_by_label("Name").fill("website widget")
        keys.get_by_label("Access").select_option("read")
        keys.get_by_label("Limit to assistants").fill("hr-bot")
        keys.get_by_role("button", name="Create key").click()
        secret = keys.get_by_label("New API key")
        expect(secret).to_have_value(re.compile(r".{20,}"))
        row = keys.locator("tr[data-key='website widget']")
        expect(row).to_contain_text("hr-bot")
        members = page.locator("section[aria-labelledby='mem-h']")
        members.get_by_label("E-mail").fill("support@acme.example")
        members.get_by_label("Role", exact=True).select_option("viewer")
        members.get_by_role("button", name="Invite").click()
        expect(members.get_by_label("Invitation code")).to_have_value(re.compile(r"^zki_.{20,}"))
        expect(members.locator("tr[data-invitation='support@acme.example']")).to_be_visible()
        shot(page, "admin-1280")
        row.get_by_role("button", name="Revoke").click()
        expect(row).to_contain_text("Revoked")

        # a second workspace: signing in again asks which one, once the password is right
        ws = page.locator("section[aria-labelledby='ws-h']")
        ws.get_by_label("New workspace").fill("second")
        ws.get_by_role("button", name="Create").click()
        expect(ws.locator("#ws-pick")).to_contain_text("second")
        page.get_by_role("button", name="Sign out").click()
        # the admin page has E-mail and Password fields too: fill only once sign-in shows
        expect(page.get_by_role("heading", name="Sign in to Zhiku")).to_be_visible()
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Choose a workspace").select_option("acme")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()

        # a failed action shows the API's message
        page.goto(server + "/#/kbs")
        expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()
        page.get_by_label("Name").fill("hr")
        page.get_by_role("button", name="Create").click()
        expect(page.locator("form .error")).to_contain_text("conflict")
        assert not errors, errors

        # phone width
        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                    is_mobile=True, has_touch=True)
        p2 = phone.new_page()
        p2.on("pageerror", lambda e: errors.append(str(e)))
        p2.on("console", lambda m: csp_violation(m, errors))
        p2.goto(server + "/")
        expect(p2.get_by_role("heading", name="登录智库")).to_be_visible()
        shot(p2, "signin-390")
        phone.add_cookies(ctx.cookies())  # the same session
        pages = (("#/kbs/hr", "documents", "hr"), ("#/search", "search", "检索试验场"),
                 ("#/assistants/hr-bot", "assistants", "助手"), ("#/chat/hr-bot", "chat", "对话"),
                 ("#/graph/org", "graph", "知识图谱"), ("#/evals", "evals", "评测"),
                 (run_path, "eval-run", "运行 #" + run_path.rsplit("/", 1)[1]),
                 ("#/usage", "usage", "用量"), ("#/admin", "admin", "工作区设置"))
        for route, name, heading in pages:
            p2.goto(f"{server}/{route}")
            p2.reload()
            expect(p2.get_by_role("heading", name=heading, exact=True, level=1)).to_be_visible()
            if name == "chat":
                p2.locator(".history button").first.click()
                expect(p2.locator(".msg.assistant").first).to_contain_text("fifteen")
            if name == "graph":
                expect(p2.locator(".graph-stage")).not_to_have_attribute("data-nodes", "0")
                p2.wait_for_timeout(800)
            if name == "documents":
                expect(p2.locator("tr[data-doc] .badge.ready").first).to_have_text("就绪")
            width = p2.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{name} overflows at phone width: {width}px"
            shot(p2, f"{name}-390")
        assert not errors, errors

        # the API docs render from the server's own files under their policy
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        page.goto(server + "/docs")
        # Swagger UI parses the whole spec (about 300 KB) before it draws: give it time on a
        # busy machine
        expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
        assert all(u.startswith(server) for u in asked), asked
        assert not errors, errors
        browser.close()
