"""Shared by the console's browser tests (a module of its own, imported by a unique name): the
Chromium they drive, the owner they sign in as, the marks that skip them where Playwright or
Chromium is missing, screenshots and Content-Security-Policy reports."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    Page = expect = sync_playwright = None  # type: ignore[assignment,misc]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
"""Chromium's flags: no sandbox (containers), no GPU, no calls home."""
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
EMAIL, PASSWORD = "owner@acme.example", "correct horse battery"

BROWSER_MARKS = [
    pytest.mark.slow,
    # The console is the same pages over the same HTTP API on either backend, and the API's
    # own tests run on both: the browser runs once, in the SQLite pass.
    pytest.mark.backend("sqlite"),
    pytest.mark.skipif(sync_playwright is None,
                       reason="the playwright package is not installed (pip install playwright)"),
    pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None,
                       reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
]
"""A browser test module's ``pytestmark``."""


def shot(page: Page, name: str, *, full_page: bool = False, hide_toast: bool = True,
         settle_ms: int = 150) -> None:
    """Save ``docs/screenshots/<name>.png`` (the console's toast hidden, so a passing notice
    does not cover the page)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if hide_toast:
        page.evaluate("document.getElementById('toast').hidden = true")
    page.wait_for_timeout(settle_ms)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def csp_violation(message: Any, errors: list[str]) -> None:
    """Record the browser's reports of anything the Content-Security-Policy blocked."""
    if "Content Security Policy" in message.text:
        errors.append(message.text)


def sign_in(page: Page, base: str, email: str = EMAIL, password: str = PASSWORD) -> None:
    """Sign in on the console's sign-in form (as the owner by default); the knowledge bases
    come first."""
    page.goto(base + "/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()
