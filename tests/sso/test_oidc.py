"""OIDC sign-in against a real provider (oidc-provider on Node.js): the full authorization code
flow with PKCE through the provider's login and consent pages, the session cookie it opens,
the group mapping, and the refusals (wrong state, tampered or foreign ID tokens, no workspace)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from oidc_provider import CALLBACK, CLIENTS, Provider, sign_in_at_provider
from sso_helpers import add_workspace, make_owner, oidc_settings

from zhiku.api.app import create_app
from zhiku.core.errors import Unauthorized
from zhiku.sso import pending
from zhiku.sso.identities import directory_groups
from zhiku.sso.oidc import OidcClient, OidcConfig
from zhiku.store.db import open_database


@pytest.fixture
def app(zhiku_home: Path, oidc_provider: Provider) -> Iterator[TestClient]:
    settings = oidc_settings(zhiku_home, oidc_provider)
    with TestClient(create_app(settings, worker=False)) as client:
        make_owner(settings)
        yield client


def _start(client: TestClient, **params: str) -> str:
    answer = client.get("/v1/auth/oidc/login", params=params, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def _callback(client: TestClient, url: str, **headers: str) -> httpx.Response:
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}", headers=headers, follow_redirects=False)


def _sso_error(answer: httpx.Response) -> str:
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    return parse_qs(location.query)["sso_error"][0]


def test_methods_name_the_provider(app: TestClient) -> None:
    methods = app.get("/v1/auth/methods").json()
    assert methods == {"password": True, "oidc": {"name": "Acme SSO",
                       "login_url": "/v1/auth/oidc/login"}, "ldap": False}


def test_the_redirect_asks_for_a_code_with_pkce_s256_state_and_nonce(app: TestClient) -> None:
    query = parse_qs(urlsplit(_start(app)).query)
    assert query["response_type"] == ["code"] and query["client_id"] == ["zhiku"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0]
    assert query["scope"] == ["openid email profile groups"]
    assert app.cookies.get("zhiku_oidc_state") == query["state"][0]


def test_first_sign_in_creates_the_user_with_the_mapped_role(app: TestClient) -> None:
    back = sign_in_at_provider(_start(app), "lihua")
    answer = _callback(app, back)
    assert answer.status_code == 303 and answer.headers["location"] == "/#/kbs"
    csrf = app.cookies.get("zhiku_csrf")
    assert app.cookies.get("zhiku_session") and csrf
    me = app.get("/v1/auth/me").json()  # the same cookie session a password sign-in opens
    assert me["workspace"] == "acme" and me["level"] == "admin"
    member = app.get(f"/v1/users/{me['user_id']}").json()
    assert member["email"] == "lihua@acme.example" and member["role"] == "admin"
    assert member["name"] == "Li Hua"
    db = open_database(app.app.state.api.settings)  # type: ignore[attr-defined]
    try:
        assert directory_groups(db.conn, me["user_id"]) == ["staff", "zhiku-admins"]
    finally:
        db.close()
    audit = app.get("/v1/audit", params={"action": "auth.login"}).json()
    entry = audit["entries"][0] if isinstance(audit, dict) else audit[0]
    assert entry["result"] == "success" and entry["detail"]["method"] == "oidc"
    assert entry["detail"]["new_account"] is True

    # a second sign-in finds the same user by issuer and subject
    app.cookies.clear()
    _callback(app, sign_in_at_provider(_start(app), "lihua"))
    assert app.get("/v1/auth/me").json()["user_id"] == me["user_id"]


def test_a_viewer_group_maps_to_viewer(app: TestClient) -> None:
    _callback(app, sign_in_at_provider(_start(app), "wangfang"))
    assert app.get("/v1/auth/me").json()["level"] == "read"


def test_a_user_mapped_to_no_workspace_gets_a_clear_error(app: TestClient) -> None:
    answer = _callback(app, sign_in_at_provider(_start(app), "nobody"))
    message = _sso_error(answer)
    assert "not mapped to any workspace" in message and "ZHIKU_SSO_ROLE_MAPPING" in message
    assert "zhiku_session" not in app.cookies
    json_answer = _callback(app, sign_in_at_provider(_start(app), "nobody"),
                            accept="application/json")
    assert json_answer.status_code == 403
    assert json_answer.json()["error"]["groups"] == ["contractors"]


def test_a_wrong_state_is_refused(app: TestClient) -> None:
    back = sign_in_at_provider(_start(app), "lihua")
    parts = urlsplit(back)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged-" + query["state"]
    answer = app.get(parts.path, params=query, follow_redirects=False)
    assert "state does not match" in _sso_error(answer)
    assert "zhiku_session" not in app.cookies


def test_a_callback_in_another_browser_is_refused(app: TestClient, zhiku_home: Path) -> None:
    back = sign_in_at_provider(_start(app), "lihua")
    app.cookies.delete("zhiku_oidc_state", path="/v1/auth/oidc")
    answer = _callback(app, back)
    assert "state does not match" in _sso_error(answer)


def test_a_state_serves_once(app: TestClient) -> None:
    start = _start(app)
    state = app.cookies.get("zhiku_oidc_state")
    back = sign_in_at_provider(start, "lihua")
    assert _callback(app, back).headers["location"] == "/#/kbs"
    app.cookies.set("zhiku_oidc_state", state or "", path="/v1/auth/oidc")
    assert "unknown, used or expired" in _sso_error(_callback(app, back))


def test_a_provider_error_is_shown(app: TestClient) -> None:
    _start(app)
    answer = app.get("/v1/auth/oidc/callback", params={"error": "access_denied",
                     "error_description": "End-User aborted interaction"},
                     follow_redirects=False)
    assert "End-User aborted interaction" in _sso_error(answer)


# -- ID token checks, on tokens the real provider issued --------------------------------------
def _id_token(provider: Provider, client: dict[str, str], nonce: str) -> str:
    """An ID token the provider issues to ``client`` after a real sign-in as lihua."""
    config = OidcConfig(provider.issuer, client["client_id"], client["client_secret"],
                        scopes="openid email")
    oidc = OidcClient(config)
    try:
        started = pending.Pending("state-" + nonce, nonce, "v" * 64, CALLBACK)
        back = sign_in_at_provider(oidc.authorize_url(started), "lihua")
        code = parse_qs(urlsplit(back).query)["code"][0]
        return str(oidc._exchange(code, started)["id_token"])
    finally:
        oidc.close()


@pytest.fixture
def verifier(oidc_provider: Provider) -> Iterator[OidcClient]:
    """Zhiku's verifier, as client ``zhiku`` of the provider."""
    client = CLIENTS[0]
    oidc = OidcClient(OidcConfig(oidc_provider.issuer, client["client_id"],
                                 client["client_secret"]))
    yield oidc
    oidc.close()


def test_a_genuine_token_verifies(oidc_provider: Provider, verifier: OidcClient) -> None:
    claims = verifier.verify_id_token(_id_token(oidc_provider, CLIENTS[0], "n-1"), "n-1")
    assert claims["sub"] == "lihua" and claims["aud"] == "zhiku"


def test_a_token_for_another_client_is_refused(oidc_provider: Provider,
                                               verifier: OidcClient) -> None:
    token = _id_token(oidc_provider, CLIENTS[1], "n-2")
    with pytest.raises(Unauthorized, match="aud"):
        verifier.verify_id_token(token, "n-2")


def test_a_tampered_token_is_refused(oidc_provider: Provider, verifier: OidcClient) -> None:
    token = _id_token(oidc_provider, CLIENTS[0], "n-3")
    header, payload, signature = token.split(".")
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="signature"):
        verifier.verify_id_token(f"{header}.{forged}.{signature}", "n-3")


def test_a_replayed_nonce_is_refused(oidc_provider: Provider, verifier: OidcClient) -> None:
    token = _id_token(oidc_provider, CLIENTS[0], "n-4")
    with pytest.raises(Unauthorized, match="nonce"):
        verifier.verify_id_token(token, "another-nonce")


def test_an_issuer_mismatch_is_refused(oidc_provider: Provider, verifier: OidcClient) -> None:
    token = _id_token(oidc_provider, CLIENTS[0], "n-5")
    verifier.metadata()  # the keys come from the real provider; the expected issuer differs
    object.__setattr__(verifier, "config", OidcConfig(
        "http://127.0.0.1:1/other", CLIENTS[0]["client_id"]))
    with pytest.raises(Unauthorized, match="iss"):
        verifier.verify_id_token(token, "n-5")


def test_an_unreachable_provider_is_explained(zhiku_home: Path) -> None:
    from sso_helpers import sso_settings

    settings = sso_settings(zhiku_home, oidc_issuer="http://127.0.0.1:9",
                            oidc_client_id="zhiku")
    with TestClient(create_app(settings, worker=False)) as client:
        answer = client.get("/v1/auth/oidc/login", follow_redirects=False)
        assert "did not answer" in _sso_error(answer)
        api = client.get("/v1/auth/oidc/login", headers={"accept": "application/json"})
        assert api.status_code == 502


def test_the_workspace_asked_for_is_the_one_signed_in_to(zhiku_home: Path,
                                                         oidc_provider: Provider) -> None:
    mapping = {"staff": ["acme:viewer", "beta:editor"]}
    settings = oidc_settings(zhiku_home, oidc_provider, sso_role_mapping=mapping)
    with TestClient(create_app(settings, worker=False)) as client:
        make_owner(settings)
        add_workspace(settings, "beta")
        _callback(client, sign_in_at_provider(_start(client, workspace="beta"), "wangfang"))
        me = client.get("/v1/auth/me").json()
        assert me["workspace"] == "beta" and me["level"] == "write"
