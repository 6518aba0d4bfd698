"""Isolation: for every route, a key of another workspace gets 404 (or 403) and learns nothing;
a key without the scope gets 403. Parametrized over the app's route table, so a new route
without a case here fails ``test_every_route_is_covered``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import HANDBOOK, Tenant, api_settings, make_tenant, seed
from fastapi.testclient import TestClient

from waiting import wait_until
from zhiku.api.app import create_app

# no API key: share links' visitor routes are checked in test_api_share.py
PUBLIC = {"/healthz", "/readyz", "/v1/auth/login", "/v1/auth/signup", "/s/{token}/session",
          "/s/{token}/chat", "/s/{token}/feedback", "/v1/auth/methods", "/v1/auth/oidc/login",
          "/v1/auth/oidc/callback", "/v1/auth/ldap/login"}
FLOW = {"nodes": [{"id": "start", "type": "start", "inputs": [{"name": "q", "type": "string"}]},
                  {"id": "end", "type": "end", "outputs": {"text": "start.q"}}],
        "edges": [{"source": "start", "target": "end"}]}
AGENT = {"model": "nowhere/model", "tools": ["calculator"]}
KB_SOURCE = {"kind": "web", "config": {"start_urls": ["http://127.0.0.1:9/"], "delay_s": 0}}
PROVIDER = {"base_url": "http://127.0.0.1:9/v1", "models": ["model"], "max_retries": 0}
SOURCE = {"kind": "openapi", "base_url": "http://127.0.0.1:9", "spec": {
    "openapi": "3.0.3", "info": {"title": "Pets", "version": "1"},
    "paths": {"/pets": {"get": {"operationId": "listPets"}}}}}


def _body(method: str, path: str, ids: dict[str, Any]) -> dict[str, Any] | None:
    """A valid request body aimed at the other tenant's resources."""
    kb, slug = ids["kb"], ids["slug"]
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/v1/kbs"): {"name": "made-by-the-caller"},
        ("PATCH", "/v1/kbs/{kb}"): {"settings": {"chunk_tokens": 64}},
        ("POST", "/v1/kbs/{kb}/documents/url"): {"url": "https://example.com/a.html"},
        ("PATCH", "/v1/kbs/{kb}/documents/{doc_id}"): {"tags": ["x"]},
        ("POST", "/v1/kbs/{kb}/embedder"): {"embedder": "hashing-32"},
        ("POST", "/v1/kbs/{kb}/documents/batch"): {
            "action": "delete", "ids": [ids.get("doc_id", 1)]},
        ("PATCH", "/v1/kbs/{kb}/chunks/{chunk_id}"): {"text": "overwritten", "enabled": False},
        ("POST", "/v1/search"): {"query": "annual leave", "knowledge_bases": [kb]},
        ("POST", "/v1/kbs/{kb}/graph/build"): {"communities": True},
        ("POST", "/v1/assistants"): {"slug": "new-bot", "config": {"knowledge_bases": [kb]}},
        ("PATCH", "/v1/assistants/{slug}"): {"name": "renamed"},
        ("POST", "/v1/assistants/{slug}/publish"): {"note": "x"},
        ("POST", "/v1/assistants/{slug}/chat"): {"message": "annual leave?"},
        ("PUT", "/v1/assistants/{slug}/eval-set"): {"eval_set": kb},
        ("POST", "/v1/assistants/{slug}/gate"): {},
        ("POST", "/v1/assistants/{slug}/rollback"): {"version": 1},
        ("POST", "/v1/messages/{message_id}/feedback"): {"rating": "down"},
        ("POST", "/v1/chat/completions"): {
            "model": slug, "messages": [{"role": "user", "content": "annual leave?"}]},
        ("POST", "/v1/keys"): {"name": "k"},
        ("POST", "/v1/users"): {"email": "x@y.example", "role": "viewer"},
        ("PATCH", "/v1/users/{user_id}"): {"role": "admin"},
        ("POST", "/v1/workspaces"): {"name": "stolen"},
        ("POST", "/v1/auth/logout"): {},
        ("POST", "/v1/auth/invitations/{invitation_id}/accept"): {},
        ("POST", "/v1/auth/invitations/{invitation_id}/decline"): {},
        ("POST", "/v1/jobs/{job_id}/retry"): {},
        ("POST", "/v1/evals/sets"): {"name": "made-by-the-caller",
                                     "questions": [{"question": "annual leave?"}]},
        ("POST", "/v1/evals/runs"): {"eval_set": kb, "kb": kb},
        ("POST", "/v1/logs/messages/{message_id}/correct"): {"answer": "overwritten", "kb": kb},
        ("POST", "/v1/logs/eval-sets"): {"name": "made-by-the-caller",
                                         "message_ids": [ids.get("message_id", 1)]},
        ("POST", "/v1/workflows"): {"name": "made", "slug": "made-flow", "definition": FLOW},
        ("POST", "/v1/workflow-validation"): {"definition": FLOW},
        ("PATCH", "/v1/workflows/{slug}"): {"name": "renamed"},
        ("POST", "/v1/workflows/{slug}/publish"): {"note": "x"},
        ("POST", "/v1/workflows/{slug}/run"): {"inputs": {"q": "annual leave?"}},
        ("POST", "/v1/workflow-runs/{workflow_run_id}/replay"): {},
        ("POST", "/v1/agents"): {"name": "made", "slug": "made-agent", "config": AGENT},
        ("PATCH", "/v1/agents/{slug}"): {"name": "renamed"},
        ("POST", "/v1/agents/{slug}/publish"): {"note": "x"},
        ("POST", "/v1/agents/{slug}/rollback"): {"version": 1},
        ("POST", "/v1/agents/{slug}/run"): {"message": "annual leave?"},
        ("POST", "/v1/tool-sources"): {"name": "made-source", **SOURCE},
        ("POST", "/v1/apps/{slug}/publish"): {"note": "x"},
        ("POST", "/v1/apps/{slug}/rollback"): {"version": 1},
        ("POST", "/v1/apps/{slug}/run"): {"query": "annual leave?"},
        ("POST", "/v1/kbs/{kb}/sources"): {"name": "made-source", **KB_SOURCE},
        ("PATCH", "/v1/kbs/{kb}/sources/{kb_source}"): {"enabled": True},
        ("POST", "/v1/kbs/{kb}/sources/{kb_source}/sync"): {},
        ("POST", "/v1/sources/{source_id}/sync"): {},
        ("POST", "/v1/assistants/{slug}/share-links"): {"name": "made-link"},
        ("POST", "/v1/apps/{slug}/share-links"): {"name": "made-app-link"},
        ("PATCH", "/v1/share-links/{link_id}"): {"enabled": False},
        ("POST", "/v1/share-links/{link_id}/rotate"): {"signing_secret": True},
        ("PUT", "/v1/moderation"): {"words": [{"word": "isolation"}]},
        ("POST", "/v1/moderation/test"): {"text": "isolation"},
        ("POST", "/v1/providers"): {"name": "made-provider", **PROVIDER},
        ("PATCH", "/v1/providers/{provider}"): {"timeout": 5, "api_key": "sk-stolen-0000000000"},
        ("POST", "/v1/providers/{provider}/test"): {},
        ("PUT", "/v1/workspace/default-model"): {"model": f"{ids.get('provider')}/model"},
        ("PATCH", "/v1/workspace/signin"): {"password_signin": True},
        ("PUT", "/v1/apps/{slug}/eval-set"): {"eval_set": kb},
        ("POST", "/v1/apps/{slug}/gate"): {},
        ("POST", "/v1/groups"): {"name": "made-group"},
        ("PATCH", "/v1/groups/{group_id}"): {"name": "renamed"},
        ("POST", "/v1/groups/{group_id}/members"): {"user_id": ids.get("user_id", 1)},
        ("PUT", "/v1/kbs/{kb}/documents/{doc_id}/groups"): {"groups": None},
        ("PUT", "/v1/sources/{source_id}/groups"): {"groups": None},
    }
    return bodies.get((method, path))


def _routes() -> list[tuple[str, str]]:
    from zhiku.core.settings import Settings

    spec = create_app(Settings(home="/nonexistent-not-opened")).openapi()
    return [
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        if path not in PUBLIC
        for method in sorted(ops)
    ]


ROUTES = _routes()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two seeded tenants on one server."""
    home = tmp_path_factory.mktemp("isolation")
    settings = api_settings(home, api_url_allowlist=["127.0.0.1:9"])  # the providers' address
    with TestClient(create_app(settings)) as client:
        a = make_tenant(settings, "acme")
        b = make_tenant(settings, "globex")
        seed(client, a, "alpha")
        seed(client, b, "beta-secret")
        for tenant in (a, b):  # an entity (graph), a page (PDF), an eval set and run
            tenant.ids.update(entity="Employee", page=1, eval_set=tenant.ids["kb"])
            h = tenant.headers
            client.post("/v1/evals/sets", headers=h, json={
                "name": tenant.ids["kb"], "questions": [{"question": "annual leave?"}]})
            run = client.post("/v1/evals/runs", headers=h,
                              json={"eval_set": tenant.ids["kb"], "kb": tenant.ids["kb"]}).json()
            tenant.ids["run_id"] = run["id"]
            # apps of every kind share slugs: the workflow's and the agent's extend the
            # assistant's (so answers normalize alike); an app's run is the assistant's turn
            tenant.ids["app_run_id"] = tenant.ids["message_id"]
            client.post("/v1/workflows", headers=h, json={
                "name": "Flow", "slug": _kind_slug("workflow", tenant.ids), "definition": FLOW})
            flow_run = client.post(f"/v1/workflows/{_kind_slug('workflow', tenant.ids)}/run",
                                   headers=h, json={"inputs": {"q": "annual leave?"}}).json()
            tenant.ids["workflow_run_id"] = flow_run["id"]
            # an agent, and a tool source named like the assistant
            client.app.state.api.runtime.workspace(tenant.workspace_id).add_provider(
                "nowhere", base_url="http://127.0.0.1:9/v1", models=["model"], max_retries=0)
            made = [client.post("/v1/agents", headers=h, json={
                "name": "Agent", "slug": _kind_slug("agent", tenant.ids), "config": AGENT}),
                client.post(f"/v1/agents/{_kind_slug('agent', tenant.ids)}/publish", headers=h,
                            json={}),
                client.post("/v1/tool-sources", headers=h,
                            json={"name": tenant.ids["slug"], **SOURCE})]
            assert [r.status_code for r in made] == [201, 200, 201], [r.text for r in made]
            tenant.ids["source"] = tenant.ids["slug"]
            site = client.post(f"/v1/kbs/{tenant.ids['kb']}/sources", headers=h,
                               json={"name": tenant.ids["slug"], **KB_SOURCE})
            assert site.status_code == 201, site.text
            tenant.ids.update(kb_source=tenant.ids["slug"], source_id=site.json()["id"])
            slug = tenant.ids["slug"]
            client.post(f"/v1/assistants/{slug}/publish", headers=h, json={})
            link = client.post(f"/v1/assistants/{slug}/share-links", headers=h, json={})
            assert link.status_code == 201, link.text
            tenant.ids["link_id"] = link.json()["id"]
            # a provider named like the assistant too, with a key of its own
            made_provider = client.post("/v1/providers", headers=h, json={
                "name": tenant.ids["slug"], "api_key": f"sk-{tenant.name}-key-000000000000",
                **PROVIDER})
            assert made_provider.status_code == 201, made_provider.text
            tenant.ids["provider"] = tenant.ids["slug"]
            group = client.post("/v1/groups", headers=h, json={"name": tenant.ids["slug"]})
            assert group.status_code == 201, group.text
            tenant.ids["group_id"] = group.json()["id"]
            url = f"/v1/evals/runs/{run['id']}"
            wait_until(lambda url=url, h=h: client.get(url, headers=h).json()["status"]
                       != "running", 60, f"eval run {run['id']} to finish")
        scoped = client.post("/v1/keys", headers=a.headers, json={
            "access": "read", "knowledge_bases": ["nothing-here"], "assistants": []}).json()
        yield {"client": client, "a": a, "b": b, "scoped_key": scoped["key"]}


def _kind_slug(kind: str, ids: dict[str, Any]) -> str:
    """The slug of the tenant's workflow or agent (the assistant's, extended)."""
    return f"{ids['slug']}-{kind}"


def _url(path: str, ids: dict[str, Any]) -> str:
    kind = "workflow" if path.startswith("/v1/workflows/") else \
        "agent" if path.startswith("/v1/agents/") else None
    values = {**ids, "slug": _kind_slug(kind, ids)} if kind else ids
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m[1]]), path)


def _leaks(text: str, other: Tenant) -> list[str]:
    secrets = [other.ids["kb"], other.ids["slug"], other.name, other.email, HANDBOOK[:40],
               "beta-secret", "fifteen days", f"sk-{other.name}-key"]
    return [s for s in secrets if s and s in text]


UPLOADS = {"/v1/kbs/{kb}/documents", "/v1/evals/sets/upload"}


def test_every_route_is_covered() -> None:
    bodyless = {"GET", "DELETE"}
    for method, path in ROUTES:
        if method in bodyless or path in UPLOADS or path.endswith("/reindex"):
            continue
        assert _body(method, path, {"kb": "k", "slug": "s"}) is not None, (method, path)


QUERIES = {  # required query parameters, so that requests get past validation
    "/v1/kbs/{kb}/graph/path": "?a=Employee&b=Leave",
    "/v1/kbs/{kb}/graph/entities": "?q=leave",
    "/v1/evals/compare": "?a=1&b=2",
}


def _call(client: TestClient, method: str, path: str, key: str, ids: dict[str, Any]) -> Any:
    url = _url(path, ids) + QUERIES.get(path, "")
    headers = {"Authorization": f"Bearer {key}"}
    if path == "/v1/kbs/{kb}/documents" and method == "POST":
        return client.post(url, headers=headers, files=[("files", ("x.md", b"# x", "text/md"))])
    if path == "/v1/evals/sets/upload":
        return client.post(url, headers=headers,
                           files={"file": ("x.csv", b"question\nannual leave?\n", "text/csv")})
    body = _body(method, path, ids)
    return client.request(method, url, headers=headers, json=body)


NOWHERE = {"kb": "no-such-kb", "slug": "no-such-bot", "doc_id": 987654, "chunk_id": 987654,
           "job_id": 987654, "conversation_id": 987654, "message_id": 987654, "key_id": 987654,
           "user_id": 987654, "entity": "no-such-entity", "page": 1, "eval_set": "no-such-kb",
           "run_id": 987654, "invitation_id": 987654, "workflow_run_id": 987654,
           "source": "no-such-bot", "app_run_id": 987654, "kb_source": "no-such-bot",
           "source_id": 987654, "link_id": 987654, "provider": "no-such-bot",
           "group_id": 987654}


def _normalized(r: Any, ids: dict[str, Any]) -> tuple[int, str]:
    text = r.text
    for name in ("slug", "kb"):
        text = text.replace(str(ids[name]), "<" + name + ">")
    for value in ids.values():
        if isinstance(value, int):
            text = re.sub(rf"\b{value}\b", "<id>", text)
    return r.status_code, text


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_other_workspace_learns_nothing(world: dict[str, Any], method: str, path: str) -> None:
    """Aiming at B's resources answers exactly as aiming at resources that do not exist."""
    client, a, b = world["client"], world["a"], world["b"]
    r = _call(client, method, path, a.key, b.ids)
    assert not _leaks(r.text.replace(b.ids["slug"], "").replace(b.ids["kb"], ""), b), (
        method, path, r.status_code, r.text[:300])
    if "{" in path or (method == "POST" and path in (
            "/v1/search", "/v1/chat/completions", "/v1/assistants")):
        assert r.status_code in (403, 404), (method, path, r.status_code, r.text[:300])
        assert set(r.json()) == {"error"}
        nowhere = _call(client, method, path, a.key, NOWHERE)
        assert _normalized(r, b.ids) == _normalized(nowhere, NOWHERE), (method, path)
    # nothing of B changed
    hb = b.headers
    assert client.get(f"/v1/kbs/{b.ids['kb']}", headers=hb).status_code == 200
    chunk = client.get(f"/v1/kbs/{b.ids['kb']}/chunks/{b.ids['chunk_id']}", headers=hb).json()
    assert chunk["enabled"] and chunk["text"] != "overwritten"
    assert client.get(f"/v1/assistants/{b.ids['slug']}", headers=hb).json()["name"] == "Bot"
    assert client.get(f"/v1/keys/{b.ids['key_id']}", headers=hb).json()["revoked_at"] is None
    assert client.get(f"/v1/share-links/{b.ids['link_id']}", headers=hb).json()["enabled"]
    provider = client.get(f"/v1/providers/{b.ids['provider']}", headers=hb).json()
    assert provider["timeout"] == 60.0 and provider["key_mask"] == "…0000"
    assert client.get("/v1/workspace/default-model", headers=hb).json()["model"] is None
    group = client.get(f"/v1/groups/{b.ids['group_id']}", headers=hb).json()
    assert group["name"] == b.ids["slug"] and group["users"] == []
    assert client.get("/v1/workspace/signin", headers=hb).json()["password_signin"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_key_without_scope_is_refused(world: dict[str, Any], method: str, path: str) -> None:
    """A read-only key limited to other names: 403 on A's own resources, never a change."""
    client, a = world["client"], world["a"]
    r = _call(client, method, path, world["scoped_key"], a.ids)
    if path in ("/v1/auth/me", "/v1/workspace", "/v1/auth/logout") or (
        method == "GET" and path in ("/v1/kbs", "/v1/assistants", "/v1/conversations",
                                     "/v1/models", "/v1/workspaces", "/v1/apps",
                                     "/v1/source-kinds", "/v1/embedders", "/v1/formats")
    ):
        assert r.status_code == 200
        assert a.ids["kb"] not in r.text and a.ids["slug"] not in r.text
        return
    assert r.status_code == 403, (method, path, r.status_code, r.text[:300])
    assert r.json()["error"]["type"] == "forbidden"


def test_read_key_cannot_write(world: dict[str, Any]) -> None:
    client, a = world["client"], world["a"]
    h = {"Authorization": f"Bearer {a.ids['read_key']}"}
    assert client.post("/v1/search", headers=h, json={"query": "leave"}).status_code == 200
    assert client.post("/v1/kbs", headers=h, json={"name": "new"}).status_code == 403
    r = client.delete(f"/v1/kbs/{a.ids['kb']}/documents/{a.ids['doc_id']}", headers=h)
    assert r.status_code == 403
    assert client.get("/v1/keys", headers=h).status_code == 403


def test_no_or_bad_credentials(world: dict[str, Any]) -> None:
    client = world["client"]
    for headers in ({}, {"Authorization": "Bearer nope"},
                    {"Authorization": "Bearer zk_000000000000_forged"}):
        r = client.get("/v1/kbs", headers=headers)
        assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
