"""Share links in real headless Chromium against a real ``zhiku serve``: the assistant page's
Share section makes a link (zh/en), a visitor chats on the public page without any key, and
the widget works on a page of an allowed origin (another 127.0.0.1 port) and is refused by
``frame-ancestors`` on a page of an origin that is not allowed. Saves docs/screenshots/share-*."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
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
    expect,
    shot,
    sync_playwright,
)

from serving import admin_init, serve
from waiting import wait_until
from zhiku.share.tokens import identity_signature

HANDBOOK = (
    "# Employee handbook\n\n## Leave\n\nNew employees get fifteen days of paid annual leave. "
    "Leave requests go to the line manager two weeks in advance.\n"
)
POLICY = "# 报销制度\n\n报销需要提供原始发票和项目编号。报销款每月发放一次。\n"

pytestmark = BROWSER_MARKS


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass




def _static_site(root: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(zhiku_home: Path) -> Iterator[tuple[str, str]]:
    """``zhiku serve`` with a published assistant over two documents; (base URL, admin key)."""
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    key = admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base:
        h = {"Authorization": f"Bearer {key}"}
        assert httpx.post(f"{base}/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201
        job = httpx.post(f"{base}/v1/kbs/hr/documents", headers=h, files=[
            ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown")),
            ("files", ("policy.md", POLICY.encode(), "text/markdown"))]).json()
        wait_until(lambda: httpx.get(f"{base}/v1/jobs/{job['id']}", headers=h).json()["status"]
                   == "done", 60, "the upload")
        assert httpx.post(f"{base}/v1/assistants", headers=h, json={
            "slug": "hr-bot", "name": "HR helper",
            "config": {"knowledge_bases": ["hr"]}}).status_code == 201
        assert httpx.post(f"{base}/v1/assistants/hr-bot/publish", headers=h,
                          json={}).status_code == 200
        yield base, key


def _page(ctx: Any, errors: list[str], lang: str = "en") -> Page:
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text
            or "Refused to frame" in m.text else None)
    page.on("dialog", lambda d: d.accept())
    page.add_init_script(f"localStorage.setItem('zhiku.lang', '{lang}')")
    return page


def test_share_link_page_and_widget(server: tuple[str, str], tmp_path: Path) -> None:
    base, _ = server
    allowed_root, blocked_root = tmp_path / "allowed", tmp_path / "blocked"
    allowed_root.mkdir()
    blocked_root.mkdir()
    allowed_sites, blocked_sites = _static_site(allowed_root), _static_site(blocked_root)
    allowed, blocked = next(allowed_sites), next(blocked_sites)
    try:
        _run(base, allowed, blocked, allowed_root, blocked_root)
    finally:
        for sites in (allowed_sites, blocked_sites):
            sites.close()


def _run(base: str, allowed: str, blocked: str, allowed_root: Path, blocked_root: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        errors: list[str] = []
        page = _page(ctx, errors)

        # the owner signs in and makes a link on the assistant's page
        page.goto(base + "/", wait_until="networkidle")
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password", exact=True).press("Enter")
        expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()
        page.goto(base + "/#/assistants/hr-bot")
        section = page.locator("section.share-links")
        expect(section.get_by_role("heading", name="Share", exact=True)).to_be_visible()
        section.get_by_label("Label").fill("Intranet")
        section.get_by_label("Sites that may embed it", exact=False).fill(allowed)
        section.locator("form.share-form button[type=submit]").click()
        issued = section.locator("[data-issued]")
        expect(issued).to_be_visible()
        values = issued.locator("input.secret").evaluate_all("els => els.map(e => e.value)")
        url, bubble, inline, secret = values
        assert url.startswith(base + "/s/zkl_") and secret.startswith("zkss_")
        assert 'data-mode="bubble"' in bubble and 'data-mode="inline"' in inline
        expect(section.locator("tr[data-link]")).to_have_count(1)
        expect(section.locator("tr[data-link]")).to_contain_text(allowed)
        section.scroll_into_view_if_needed()
        shot(page, "share-console-en", hide_toast=False, settle_ms=200)
        # the token is not shown again once the page is left
        page.reload()
        expect(page.locator("section.share-links tr[data-link]")).to_have_count(1)
        assert page.locator("[data-issued]").count() == 0
        assert url.split("/s/")[1] not in page.content()

        zh = _page(ctx, errors, "zh")
        zh.goto(base + "/#/assistants/hr-bot")
        zh_section = zh.locator("section.share-links")
        expect(zh_section.get_by_role("heading", name="分享", exact=True)).to_be_visible()
        expect(zh.locator("section.share-links tr[data-link]")).to_contain_text("已启用")
        zh.locator("section.share-links").scroll_into_view_if_needed()
        shot(zh, "share-console-zh", hide_toast=False, settle_ms=200)
        zh.close()

        # a visitor (a fresh browser context: no session, no key) chats on the public page
        visitor_ctx = browser.new_context(viewport={"width": 900, "height": 760},
                                          locale="en-US")
        visitor = _page(visitor_ctx, errors)
        keys_seen: list[str] = []
        visitor.on("request", lambda r: keys_seen.append(r.headers.get("authorization", "")))
        visitor.goto(url, wait_until="networkidle")
        expect(visitor.get_by_role("heading", name="HR helper")).to_be_visible()
        visitor.get_by_label("Your question").fill("How many days of paid annual leave?")
        visitor.get_by_label("Your question").press("Enter")
        answer = visitor.locator(".msg.assistant .sources")
        expect(answer).to_contain_text("fifteen days", timeout=30_000)
        expect(visitor.locator(".msg.assistant button.cite").first).to_be_visible()
        visitor.get_by_role("button", name="Helpful", exact=True).click()
        expect(visitor.locator(".msg.assistant .feedback")).to_contain_text("Thanks")
        assert all(not k or k.startswith("Bearer zkv_") for k in keys_seen)
        assert not any(k.startswith("Bearer zk_") for k in keys_seen)
        shot(visitor, "share-page-en", hide_toast=False, settle_ms=200)

        zh_visitor = _page(visitor_ctx, errors, "zh")
        zh_visitor.goto(url + "#lang=zh", wait_until="networkidle")
        zh_visitor.get_by_label("请输入您的问题").fill("报销需要提供什么？")
        zh_visitor.get_by_role("button", name="发送").click()
        expect(zh_visitor.locator(".msg.assistant .sources")).to_contain_text("原始发票",
                                                                              timeout=30_000)
        shot(zh_visitor, "share-page-zh", hide_toast=False, settle_ms=200)
        visitor_ctx.close()

        # the widget on a page of the allowed origin: bubble and inline
        for root in (allowed_root, blocked_root):
            (root / "bubble.html").write_text(
                f"<!doctype html><html><body><h1>Intranet</h1><p>Welcome.</p>{bubble}</body>"
                "</html>", "utf-8")
            (root / "inline.html").write_text(
                f"<!doctype html><html><body><h1>Help desk</h1>{inline}</body></html>", "utf-8")
        host = _page(ctx, errors)
        host.goto(allowed + "/bubble.html", wait_until="networkidle")
        host.locator("button[data-zhiku-widget=bubble]").click()
        frame = host.frame_locator("iframe[data-zhiku-widget=frame]")
        frame.get_by_label("Your question").fill("How many days of paid annual leave?")
        frame.get_by_label("Your question").press("Enter")
        expect(frame.locator(".msg.assistant .sources")).to_contain_text("fifteen days",
                                                                         timeout=30_000)
        shot(host, "share-widget-en", hide_toast=False, settle_ms=200)
        (allowed_root / "bubble-zh.html").write_text(
            '<!doctype html><html><head><meta charset="utf-8"></head>'
            "<body><h1>内网首页</h1><p>欢迎。</p>"
            + bubble.replace("<script ", '<script data-lang="zh" ') + "</body></html>", "utf-8")
        host.goto(allowed + "/bubble-zh.html", wait_until="networkidle")
        host.locator("button[data-zhiku-widget=bubble]").click()
        frame = host.frame_locator("iframe[data-zhiku-widget=frame]")
        frame.get_by_label("请输入您的问题").fill("报销需要提供什么？")
        frame.get_by_label("请输入您的问题").press("Enter")
        expect(frame.locator(".msg.assistant .sources")).to_contain_text("原始发票",
                                                                         timeout=30_000)
        shot(host, "share-widget-zh", hide_toast=False, settle_ms=200)
        host.goto(allowed + "/inline.html", wait_until="networkidle")
        expect(host.frame_locator("iframe[data-zhiku-widget=frame]")
               .get_by_label("Your question")).to_be_visible()
        # an intranet page passes its signed-in user, signed with the link's secret
        exp = int(time.time()) + 300
        sig = identity_signature(secret, "e1024@corp", exp)
        signed = inline.replace("<script ", f'<script data-user="e1024@corp" data-exp="{exp}" '
                                f'data-sig="{sig}" ')
        (allowed_root / "signed.html").write_text(
            f"<!doctype html><html><body><h1>Portal</h1>{signed}</body></html>", "utf-8")
        host.goto(allowed + "/signed.html", wait_until="networkidle")
        expect(host.frame_locator("iframe[data-zhiku-widget=frame]").locator(".who")
               ).to_contain_text("e1024@corp")
        assert not errors, errors

        # the same snippet on a page of an origin that is not allowed: the frame is refused
        host.goto(blocked + "/inline.html", wait_until="networkidle")
        wait_until(lambda: any("frame-ancestors" in e for e in errors), 10,
                   "Chromium to refuse the frame")
        assert host.frame_locator("iframe[data-zhiku-widget=frame]").locator(
            "textarea").count() == 0

        # the owner adds a password, then disables the link: the page says it is gone
        page.goto(base + "/#/assistants/hr-bot")
        row = page.locator("section.share-links tr[data-link]")
        row.get_by_role("button", name="Edit").click()
        form = page.locator("form.share-form")
        expect(form.get_by_role("heading")).to_contain_text("Intranet")
        form.get_by_label("Password (empty: unchanged)").fill("open sesame")
        form.get_by_role("button", name="Save changes").click()
        expect(row).to_contain_text("password")
        gate = _page(ctx, errors)
        gate.goto(url, wait_until="networkidle")
        gate.locator("input[type=password]").fill("open sesame")
        gate.get_by_role("button", name="Open").click()
        expect(gate.get_by_label("Your question")).to_be_visible()
        row.get_by_role("button", name="Disable").click()
        expect(row).to_contain_text("disabled")
        gate.evaluate("sessionStorage.clear()")
        gate.reload(wait_until="networkidle")
        expect(gate.get_by_role("alert")).to_contain_text("no longer available")
        row.get_by_role("button", name="Rotate").click()
        expect(page.locator("[data-issued]")).to_be_visible()
        assert page.locator("[data-issued] input.secret").first.input_value() != url
        browser.close()
