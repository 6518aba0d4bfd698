"""Console fixes in real headless Chromium against a real ``zhiku serve``: answers' Markdown
rendered as formatting (built from text, never markup) with no echoed FAQ question and a clean
refusal off topic; inviting a present member says so and points at their role; the graph
overview labels its main entities and says what a language model would add; usage days are
the browser's days (Asia/Shanghai here)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from console_support import (
    ARGS,
    BROWSER_MARKS,
    CHROMIUM,
    EMAIL,
    PASSWORD,
    Page,
    expect,
    shot,
    sign_in,
    sync_playwright,
)

from serving import admin_init, serve
from waiting import wait_until
from zhiku.core.settings import Settings
from zhiku.store.db import open_database

pytestmark = BROWSER_MARKS
FAQ = ("# HR FAQ\n\n## Travel\n\nQ: Who approves business travel?\nA: Your line manager "
       "approves **business travel** before booking.\n\n## Leave\n\nNew employees get "
       "**30 days** of paid annual leave per year. Unused days expire in *March*.\n")
TRAVEL = ("# Travel policy\n\nThe company travel policy applies to all employees. Hotel costs "
          "are reimbursed up to 150 euros a night. The company policy requires receipts for "
          "every expense.\n")
LEAVE = "# Leave\n\nNew employees get **30 days** of paid annual leave per year.\n"
FIRST = "Anna Bruno Carla Dieter Elena Felix Greta Hugo Ida Jonas Klara Lukas Mira Nils Olga"
LAST = "Berg Dahl Engel Fuchs Graf Hahn Jung Kraus Lang Maier"


def _people() -> str:
    names = [f"{a} {b}" for a, b in itertools.product(FIRST.split(), LAST.split())]
    return "# Meetings\n\n" + " ".join(f"{a} met {b} in Berlin." for a, b in
                                       itertools.pairwise(names)) + "\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("leftovers") / "home"
    env = {**os.environ, "ZHIKU_HOME": str(home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    key = admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base:
        h = {"Authorization": f"Bearer {key}"}
        for kb, files in (("hr", {"faq.md": FAQ, "travel.md": TRAVEL, "leave.md": LEAVE}),
                          ("people", {"meetings.md": _people()})):
            assert httpx.post(f"{base}/v1/kbs", headers=h, json={
                "name": kb, "settings": {"graph": kb == "people"}}).status_code == 201
            job = httpx.post(f"{base}/v1/kbs/{kb}/documents", headers=h, files=[
                ("files", (n, t.encode(), "text/markdown")) for n, t in files.items()]).json()
            wait_until(lambda job=job: httpx.get(f"{base}/v1/jobs/{job['id']}", headers=h)
                       .json()["status"] == "done", 60, "the upload")
        assert httpx.post(f"{base}/v1/assistants", headers=h, json={
            "slug": "hr-bot", "config": {"knowledge_bases": ["hr"]}}).status_code == 201
        assert httpx.post(f"{base}/v1/assistants/hr-bot/publish", headers=h,
                          json={}).status_code == 200
        assert httpx.post(f"{base}/v1/assistants/hr-bot/chat", headers=h, timeout=60, json={
            "message": "How many days of annual leave?"}).status_code == 200  # a model call
        yield base, home


def _browser_page(pw: object, base: str, tz: str = "Asia/Shanghai") -> tuple[object, Page]:
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,  # type: ignore[attr-defined]
                                 args=ARGS)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                              timezone_id=tz)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: d.accept())
    page.add_init_script("localStorage.setItem('zhiku.lang', 'en')")
    sign_in(page, base)
    page.errors = errors  # type: ignore[attr-defined]
    return browser, page


def _ask(page: Page, question: str) -> object:
    box = page.locator(".chat-area").get_by_role("textbox", name="Message")
    box.fill(question)
    box.press("Enter")
    answer = page.locator(".msg.assistant[data-message]").last
    expect(answer.locator(".bubble")).not_to_be_empty(timeout=30_000)
    return answer


def test_answers_render_markdown_without_echo_and_refuse_off_topic(
        site: tuple[str, Path]) -> None:
    base, _ = site
    with sync_playwright() as pw:
        browser, page = _browser_page(pw, base)
        page.goto(base + "/#/chat/hr-bot")
        expect(page.locator("#chat-assistant")).to_have_value("hr-bot")
        leave = _ask(page, "How many days of annual leave do new employees get?")
        expect(leave.locator(".bubble strong")).to_have_text("30 days", timeout=30_000)
        assert "**" not in leave.locator(".bubble").inner_text()
        assert leave.locator(".bubble").inner_text().count("30 days") == 1  # said once
        travel = _ask(page, "Who approves business travel?")
        expect(travel.locator(".bubble")).to_contain_text("line manager", timeout=30_000)
        text = travel.locator(".bubble").inner_text()
        assert "?" not in text and "Q:" not in text and "A:" not in text
        off = _ask(page, "What is the company policy on remote work?")
        expect(off.locator("[data-refused]")).to_be_visible(timeout=30_000)
        expect(off.locator("button.cite")).to_have_count(0)
        shot(page, "chat-markdown-refusal", hide_toast=True)
        assert not page.errors, page.errors  # type: ignore[attr-defined]
        browser.close()


def test_inviting_a_present_member_points_at_their_role(site: tuple[str, Path]) -> None:
    base, _ = site
    with sync_playwright() as pw:
        browser, page = _browser_page(pw, base)
        page.goto(base + "/#/admin")
        members = page.locator("section[aria-labelledby='mem-h']")
        expect(members.locator(f"tr[data-member='{EMAIL}']")).to_be_visible()
        members.get_by_label("E-mail").fill(EMAIL.upper())
        members.get_by_label("Role", exact=True).select_option("viewer")
        members.get_by_role("button", name="Invite").click()
        expect(members).to_contain_text("is already a member of this workspace")
        row = members.locator(f"tr[data-member='{EMAIL}']")
        expect(row).to_have_class("flash")
        expect(row.locator("select")).to_be_focused()
        expect(members.get_by_label("Invitation code")).to_have_count(0)
        expect(members.locator("tr[data-invitation]")).to_have_count(0)
        assert not page.errors, page.errors  # type: ignore[attr-defined]
        browser.close()


def test_graph_overview_labels_and_the_llm_hint(site: tuple[str, Path]) -> None:
    base, _ = site
    with sync_playwright() as pw:
        browser, page = _browser_page(pw, base)
        page.goto(base + "/#/graph/people")
        stage = page.locator(".graph-stage")
        wait_until(lambda: int(stage.get_attribute("data-nodes") or 0) > 120, 30,
                   "the overview of more than 120 entities")
        wait_until(lambda: int(stage.get_attribute("data-labels") or 0) >= 10, 10,
                   "labels on the overview")
        hint = page.locator(".graph-llm-hint")
        expect(hint).to_be_visible()
        expect(hint).to_contain_text("zhiku graph build --kb people --llm-url")
        shot(page, "graph-overview-labels")
        assert not page.errors, page.errors  # type: ignore[attr-defined]
        browser.close()


def test_usage_days_are_the_browsers_days(site: tuple[str, Path]) -> None:
    base, home = site
    # a call at 17:30 UTC three days ago: 01:30 two days ago in Shanghai
    at = (datetime.now(UTC) - timedelta(days=3)).replace(hour=17, minute=30, second=0,
                                                         microsecond=0)
    utc_day = at.date().isoformat()
    local_day = (at + timedelta(hours=8)).date().isoformat()
    db = open_database(Settings(home=home))
    try:
        with db.write() as conn:
            row = dict(conn.execute("SELECT * FROM model_calls ORDER BY id LIMIT 1").fetchone())
            row.pop("id")
            row.update(created_at=at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), input_tokens=7000,
                       output_tokens=0)
            conn.execute(f"INSERT INTO model_calls ({', '.join(row)}) VALUES "
                         f"({', '.join('?' for _ in row)})", list(row.values()))
    finally:
        db.close()
    with sync_playwright() as pw:
        browser, page = _browser_page(pw, base)
        with page.expect_request(lambda r: "/v1/usage/series" in r.url
                                 and "tz=Asia%2FShanghai" in r.url):
            page.goto(base + "/#/usage")
        data = page.locator("#usage-chart details.data")
        data.locator("summary").click()
        local_row = data.locator("tr", has=page.locator(f"td:text-is('{local_day}')"))
        expect(local_row).to_contain_text("7000")  # the call's tokens
        utc_row = data.locator("tr", has=page.locator(f"td:text-is('{utc_day}')"))
        assert "7000" not in utc_row.inner_text()
        assert "UTC" not in data.inner_text()
        assert not page.errors, page.errors  # type: ignore[attr-defined]
        browser.close()
