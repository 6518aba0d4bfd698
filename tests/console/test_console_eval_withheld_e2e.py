"""An eval run's page in real headless Chromium for a viewer outside the group a document is
restricted to: the question pointing at that document reads "withheld" (English and Chinese)
and no word of it reaches the page; the other question is shown whole."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from console_support import ARGS, BROWSER_MARKS, CHROMIUM, EMAIL, PASSWORD, csp_violation, sign_in

from serving import admin_init, serve
from waiting import wait_until

pytestmark = BROWSER_MARKS
VIEWER, VIEWER_PASSWORD = "viewer@acme.example", "viewer horse battery"


@pytest.fixture
def server(zhiku_home: Path) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false"}
    key = admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base:
        yield base, key


def _seed(api: httpx.Client) -> int:
    """A document restricted to ``payroll``, a public one, a set asking about each, a run of
    the owner's (it reads both), and a viewer outside ``payroll``; the run's id."""
    assert api.post("/v1/kbs", json={"name": "hr"}).status_code == 201
    assert api.post("/v1/groups", json={"name": "payroll"}).status_code == 201
    for name, text, data in (("salaries.md", b"# Salaries\n\nThe salary bands code is SB7710.\n",
                              {"groups": "payroll"}),
                             ("canteen.md", b"# Canteen\n\nThe canteen serves lunch until 2 pm.\n",
                              {})):
        job = api.post("/v1/kbs/hr/documents", data=data,
                       files=[("files", (name, text, "text/markdown"))]).json()
        wait_until(lambda j=job: api.get(f"/v1/jobs/{j['id']}").json()["status"] == "done",
                   60, f"{name} to be indexed")
    r = api.post("/v1/evals/sets", json={"name": "pay", "questions": [
        {"id": "bands", "question": "What is the salary bands code SB7710 for?",
         "expected_sources": ["salaries.md"]},
        {"id": "lunch", "question": "Until when does the canteen serve lunch?",
         "expected_sources": ["canteen.md"]}]})
    assert r.status_code == 201, r.text
    run = api.post("/v1/evals/runs", json={"eval_set": "pay", "kb": "hr", "top_k": 5}).json()
    wait_until(lambda: api.get(f"/v1/evals/runs/{run['id']}").json()["status"] == "done", 60,
               "the run to finish")
    token = api.post("/v1/users", json={"email": VIEWER, "role": "viewer"}).json()["token"]
    r = api.post("/v1/auth/signup", json={"token": token, "password": VIEWER_PASSWORD})
    assert r.status_code == 201, r.text
    return int(run["id"])


def test_a_withheld_eval_question_reads_withheld(server: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, key = server
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                      timeout=60) as api:
        run_id = _seed(api)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800},
                                   locale="en-US").new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: csp_violation(m, errors))
        sign_in(page, base, VIEWER, VIEWER_PASSWORD)
        page.goto(base + f"/#/evals/runs/{run_id}")
        page.get_by_label("Only failing").uncheck()
        bands = page.locator("li[data-question='bands']")
        expect(bands.locator("summary")).to_contain_text("Withheld (a document you may not read)")
        expect(page.locator("li[data-question='lunch'] summary")).to_contain_text(
            "Until when does the canteen serve lunch?")
        assert "SB7710" not in page.content() and "salaries.md" not in page.content()

        page.locator("#lang").select_option("zh")
        page.goto(base + f"/#/evals/runs/{run_id}")
        page.get_by_label("只看未通过").uncheck()
        expect(page.locator("li[data-question='bands'] summary")).to_contain_text("已隐去")
        assert "SB7710" not in page.content()
        assert not errors, errors
        browser.close()
