"""The conversation logs, first-run checklist and eval failure reasons in real headless
Chromium against a real ``zhiku serve``: an empty workspace shows the three-step checklist; the
logs page filters conversations of every channel, opens one, and a correction from it becomes a
search hit at once; refused questions are grouped; an eval run says why each question failed;
the chat says answers are extractive without a model. Screenshots docs/screenshots/logs-*.png
in English and Chinese."""

from __future__ import annotations

import os
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
    expect,
    shot,
    sync_playwright,
)

from serving import admin_init, serve

LEAVE = "# 年假\n\n新员工入职第一年享有 5 天带薪年假。年假需提前两周向主管申请。\n"
ANSWERED = "新员工有几天年假？"
REFUSED = "公司有没有远程办公政策？"
FIX = "公司支持每周两天远程办公，需主管批准。"

pytestmark = BROWSER_MARKS


@pytest.fixture
def site(zhiku_home: Path) -> Iterator[tuple[str, str]]:
    """A served, empty workspace: its base URL and the owner's API key."""
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    key = admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base:
        yield base, key


def _wait(api: httpx.Client, path: str, done: Any, what: str) -> dict[str, Any]:
    for _ in range(600):
        body = api.get(path).json()
        if done(body):
            return dict(body)
        time.sleep(0.1)
    raise AssertionError(f"{what} did not finish")


def _seed(api: httpx.Client) -> int:
    """A knowledge base, an extractive assistant, conversations over two channels, and a
    finished eval run; returns the run's id."""
    assert api.post("/v1/kbs", json={"name": "hr"}).status_code == 201
    job = api.post("/v1/kbs/hr/documents", files=[
        ("files", ("leave.md", LEAVE.encode(), "text/markdown"))]).json()
    _wait(api, f"/v1/jobs/{job['id']}", lambda j: j["status"] == "done", "the upload")
    r = api.post("/v1/assistants", json={"slug": "hr", "name": "HR", "config": {
        "knowledge_bases": ["hr"], "retrieval": {"min_relevance": 0.3}}})
    assert r.status_code == 201, r.text
    for message in (ANSWERED, REFUSED):
        assert api.post("/v1/assistants/hr/chat", json={"message": message}).status_code == 200
    r = api.post("/v1/chat/completions", json={
        "model": "hr", "messages": [{"role": "user", "content": REFUSED + "？"}]})
    assert r.status_code == 200, r.text
    questions = [
        {"id": "leave", "question": ANSWERED, "expected_sources": ["leave.md"],
         "reference_answers": ["5 天"]},
        {"id": "remote", "question": REFUSED, "reference_answers": ["每周两天"]},
        {"id": "moon", "question": "新员工入职第一年有几天年假？", "answerable": False},
    ]
    assert api.post("/v1/evals/sets", json={"name": "hr-why",
                                            "questions": questions}).status_code == 201
    run = api.post("/v1/evals/runs", json={"eval_set": "hr-why", "kb": "hr"}).json()
    _wait(api, f"/v1/evals/runs/{run['id']}", lambda b: b["status"] != "running", "the run")
    return int(run["id"])


def test_logs_corrections_checklist_and_reasons(site: tuple[str, str], tmp_path: Path) -> None:
    base, key = site
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800},
                                   locale="en-US").new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        # first run: three open steps, from the workspace's real state
        card = page.locator("section.first-run")
        expect(card).to_be_visible()
        expect(card.locator("li[data-done='false']")).to_have_count(3)
        # step 1 leads to the Models page, where a provider is added
        expect(card.locator("li[data-step='1'] a")).to_have_attribute("href", "#/models")
        shot(page, "logs-checklist-1280")
        page.get_by_label("Language", exact=True).select_option("zh")
        expect(page.locator("section.first-run")).to_contain_text("三步开始使用")
        shot(page, "logs-checklist-zh-1280")
        page.get_by_label("语言", exact=True).select_option("en")

        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                          timeout=60) as api:
            run_id = _seed(api)
        page.goto(base + "/#/kbs")
        page.reload()
        card = page.locator("section.first-run")
        expect(card.locator("li[data-step='2']")).to_have_attribute("data-done", "true")
        expect(card.locator("li[data-step='3']")).to_have_attribute("data-done", "true")
        expect(card.locator("li[data-step='1']")).to_have_attribute("data-done", "false")

        # chat: without a model, the page says answers are extractive
        page.goto(base + "/#/chat/hr")
        expect(page.locator(".extractive-note").first).to_contain_text("extractive")

        # the log: every channel, filters, a conversation's turns
        page.get_by_role("navigation").get_by_role("link", name="Logs").click()
        expect(page.get_by_role("heading", name="Conversation logs")).to_be_visible()
        rows = page.locator("tr.log-row")
        expect(rows).to_have_count(3)
        expect(rows.first).to_contain_text("OpenAI-compatible API")
        page.get_by_label("Refused").check()
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(2)
        page.get_by_label("Channel").select_option("chat")
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(1)
        rows.first.get_by_role("button", name="Open").click()
        turn = page.locator("li.turn").first
        expect(turn).to_contain_text(REFUSED)
        shot(page, "logs-1280")

        # correct it: an FAQ entry in hr and an eval question, then a search hit at once
        turn.get_by_role("button", name="Correct").click()
        dlg = page.locator("dialog.modal")
        dlg.get_by_label("The right answer").fill(FIX)
        dlg.get_by_label("Add as FAQ to knowledge base").select_option("hr")
        dlg.get_by_label("Add to eval set (created if missing)").fill("fixes")
        shot(page, "logs-correct-1280")
        dlg.get_by_role("button", name="Save correction").click()
        expect(page.locator("#toast")).to_contain_text("searchable now")
        page.get_by_role("navigation").get_by_role("link", name="Search").click()
        page.get_by_label("Query").fill("远程办公政策")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.locator("li.hit").first).to_contain_text("每周两天远程办公")

        # refused questions, grouped with their counts
        page.goto(base + "/#/logs")
        page.get_by_role("tab", name="Unanswered questions").click()
        group = page.locator("tr.unanswered-row").first
        expect(group).to_contain_text(REFUSED)
        expect(group.locator("td").nth(1)).to_have_text("2")
        shot(page, "logs-unanswered-1280")

        # an eval set from selected answers
        page.get_by_role("tab", name="Conversations").click()
        page.locator("tr.log-row").last.get_by_role("button", name="Open").click()
        page.locator("li.turn").first.get_by_label("Use for an eval set").check()
        page.get_by_label("Eval set name").fill("from-logs")
        page.get_by_role("button", name="Create eval set from 1 selected answers").click()
        expect(page.locator("#toast")).to_contain_text("Eval set from-logs created")

        # an eval set uploaded as a spreadsheet: Chinese headers, a bad row reported by number
        table = tmp_path / "年假评测.csv"
        table.write_text("问题,参考答案,预期来源\n新员工有几天年假？,5 天,leave.md\n,没有问题,\n",
                         encoding="utf-8")
        page.get_by_role("navigation").get_by_role("link", name="Evaluation").click()
        page.locator("#set-table").set_input_files(str(table))
        page.locator("form.table-set").get_by_role("button", name="Upload").click()
        expect(page.locator("ul.skipped li[data-row='3']")).to_contain_text("the question is empty")
        page.locator("form.table-set").scroll_into_view_if_needed()
        shot(page, "logs-eval-upload-1280")

        # the eval run says why each question failed, with readable metric names
        page.goto(base + f"/#/evals/runs/{run_id}")
        page.get_by_label("Only failing").uncheck()
        leave = page.locator("li[data-question='leave']")
        expect(leave.locator(".badge.why")).to_have_count(0)  # contains "5 天": not a failure
        expect(page.locator("li[data-question='remote'] [data-reason='false_refusal']"))\
            .to_be_visible()
        expect(page.locator("li[data-question='moon'] [data-reason]")).to_have_count(1)
        expect(page.locator(".why-summary")).to_contain_text("False refusal")
        page.evaluate("window.scrollTo(0, document.querySelector('.why-summary').offsetTop)")
        shot(page, "logs-eval-why-1280")
        page.get_by_label("Language", exact=True).select_option("zh")
        expect(page.locator(".why-summary")).to_contain_text("误拒答")
        hit = page.locator("abbr.metric-name[data-metric^='hit@']").first
        assert "命中率" in (hit.text_content() or "")
        assert "预期来源" in (hit.get_attribute("title") or "")
        page.locator(".why-summary").scroll_into_view_if_needed()
        shot(page, "logs-eval-why-zh-1280")
        page.goto(base + "/#/logs")
        expect(page.get_by_role("heading", name="对话日志")).to_be_visible()
        expect(page.locator("tr.log-row")).to_have_count(3)
        shot(page, "logs-zh-1280")
        # a phone: the page fits 390 px without sideways scrolling
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        expect(page.locator("tr.log-row")).to_have_count(3)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "logs-zh-390")
        assert not errors, errors
        browser.close()
