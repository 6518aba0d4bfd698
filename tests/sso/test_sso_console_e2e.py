"""Single sign-on in the console, in real headless Chromium against a real ``zhiku serve``, a
real OIDC provider (oidc-provider on Node.js) and a real slapd: the sign-in page offers "Sign
in with <provider>" and a directory account form (zh and en), both sign people in, a failed
single sign-on shows its reason, and an admin turns password sign-in off for the workspace
(screenshots docs/screenshots/signin-sso-*.png and signin-policy-en.png)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from ldap_server import PEOPLE_PASSWORDS, SERVICE_DN, SERVICE_PASSWORD, Slapd
from oidc_provider import CLIENTS, NODE, free_port, running_provider
from sso_helpers import MAPPING

from serving import admin_init, serve


def _console_support() -> ModuleType:
    """The console tests' shared module (Chromium, its flags, the marks that skip without it)."""
    if "console_support" not in sys.modules:
        path = Path(__file__).parents[1] / "console" / "console_support.py"
        spec = importlib.util.spec_from_file_location("console_support", path)
        assert spec is not None and spec.loader is not None
        sys.modules["console_support"] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules["console_support"]


support = _console_support()
pytestmark = support.BROWSER_MARKS
EMAIL, PASSWORD = support.EMAIL, support.PASSWORD


@pytest.fixture
def site(zhiku_home: Path, slapd: Slapd, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``zhiku serve`` with OIDC and LDAP sign-in, and a provider that redirects to it."""
    if NODE is None:
        pytest.skip("node is not installed: the OIDC tests run oidc-provider on Node.js")
    port = free_port()
    env = {**os.environ, "ZHIKU_HOME": str(zhiku_home), "ZHIKU_EMBEDDER": "hashing",
           "ZHIKU_OCR": "false", "ZHIKU_OIDC_ISSUER": f"http://127.0.0.1:{port}",
           "ZHIKU_OIDC_CLIENT_ID": CLIENTS[0]["client_id"],
           "ZHIKU_OIDC_CLIENT_SECRET": CLIENTS[0]["client_secret"],
           "ZHIKU_OIDC_SCOPES": "openid email profile groups",
           "ZHIKU_OIDC_PROVIDER_NAME": "Acme SSO", "ZHIKU_LDAP_URL": slapd.url,
           "ZHIKU_LDAP_BIND_DN": SERVICE_DN, "ZHIKU_LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
           "ZHIKU_LDAP_USER_BASE": slapd.users, "ZHIKU_LDAP_GROUP_BASE": slapd.groups,
           "ZHIKU_SSO_ROLE_MAPPING": json.dumps(MAPPING)}
    key = admin_init(env, EMAIL, PASSWORD)
    with serve(env) as base, running_provider(
            tmp_path, port=port, callback=base + "/v1/auth/oidc/callback"):
        yield base, key


def test_single_sign_on_in_the_console(site: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, key = site
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=support.CHROMIUM, headless=True,
                                     args=support.ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: support.csp_violation(m, errors))

        # OIDC: the button, the provider's login and consent pages, back signed in
        page.goto(base + "/")
        sso = page.get_by_role("link", name="Sign in with Acme SSO")
        expect(sso).to_be_visible()
        expect(page.get_by_role("heading", name="Directory account")).to_be_visible()
        support.shot(page, "signin-sso-en")
        sso.click()
        page.locator("input[name=login]").fill("lihua")
        page.locator("input[name=password]").fill("anything")
        page.locator("button[type=submit]").click()
        page.locator("button[type=submit]").click()  # consent
        expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()
        me = page.evaluate("fetch('/v1/auth/me').then((r) => r.json())")
        assert me["workspace"] == "acme" and me["level"] == "admin"
        page.get_by_role("button", name="Sign out").click()

        # a refused single sign-on comes back to the sign-in page with its reason
        page.goto(base + "/v1/auth/oidc/callback?error=access_denied"
                  "&error_description=End-User+aborted+interaction")
        expect(page.get_by_role("form", name="Sign in to Zhiku").get_by_role("alert")).to_have_text(
            "Single sign-on failed: the identity provider refused: End-User aborted "
            "interaction")
        assert "sso_error" not in page.url

        # a directory account
        page.get_by_label("Directory user name").fill("wangfang")
        page.locator("input[name=directory_password]").fill(PEOPLE_PASSWORDS["wangfang"])
        page.get_by_role("button", name="Use directory account").click()
        expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()
        me = page.evaluate("fetch('/v1/auth/me').then((r) => r.json())")
        assert me["level"] == "read"
        page.get_by_role("button", name="Sign out").click()

        # the owner turns password sign-in off for the workspace
        support.sign_in(page, base)
        page.goto(base + "/#/admin")
        section = page.locator("section", has=page.get_by_role("heading", name="Sign-in"))
        toggle = section.get_by_label("Allow sign-in with e-mail and password")
        expect(toggle).to_be_checked()
        toggle.uncheck()
        expect(toggle).not_to_be_checked()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as api:
            assert api.get("/v1/workspace/signin").json() == {"password_signin": False}
        page.evaluate("document.getElementById('toast').hidden = true")
        section.screenshot(path=str(support.SHOTS / "signin-policy-en.png"))
        assert not errors, errors
        ctx.close()

        zh = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = zh.new_page()
        page.goto(base + "/")
        expect(page.get_by_role("link", name="使用 Acme SSO 登录")).to_be_visible()
        expect(page.get_by_role("heading", name="目录账号（LDAP / AD）")).to_be_visible()
        support.shot(page, "signin-sso-zh")
        browser.close()
