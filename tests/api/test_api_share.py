"""Share links over real HTTP: two app instances (uvicorn on two 127.0.0.1 ports) on one
database; a visitor opens a session and chats without any API key; limits, origins, passwords,
signed identities and dead links behave as documented, and owners see each channel's
conversations."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from api_helpers import api_settings, make_tenant, parse_sse
from share_helpers import Site, seed_site, served

from zhiku.core.settings import Settings
from zhiku.share.tokens import identity_signature

pytestmark = pytest.mark.shared_server
GONE = "this link does not exist or is no longer available"
INTRANET = "http://127.0.0.1:9"  # an allowed embedding origin (nothing listens there)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         make_settings: Callable[..., Settings]) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("share")
    base = api_settings(home)
    settings = make_settings(home, **{k: getattr(base, k) for k in (
        "embedder", "api_rate_limit_per_minute", "ocr")})
    with ExitStack() as stack:
        bases = [stack.enter_context(served(settings)) for _ in range(2)]
        yield seed_site(settings, bases)


def test_visitor_chats_with_citations_streaming_and_memory(site: Site) -> None:
    link = site.link(name="intranet")
    assert link["token"].startswith("zkl_") and link["path"] == f"/s/{link['token']}"
    assert link["signing_secret"].startswith("zkss_")
    listed = site.api("GET", f"/v1/assistants/{site.slug}/share-links")
    assert [x["id"] for x in listed] == [link["id"]]
    assert "token" not in listed[0] and link["token"] not in json.dumps(listed)
    assert listed[0]["token_hint"] == link["token"][-4:]

    page = httpx.get(f"{site.base}/s/{link['token']}")
    assert page.status_code == 200 and "sharepage.js" in page.text
    assert "zk_" not in page.text  # no key in the page
    visitor = site.session(link["token"]).json()
    assert visitor["token"].startswith("zkv_") and visitor["title"] == "HR helper"
    assert visitor["channel"] == "share" and visitor["user"] is None

    r = site.chat(link["token"], visitor["token"], stream=True)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    kinds = [k for k, _ in events]
    assert kinds[0] == "token" and kinds[-3:] == ["citations", "usage", "done"]
    citations = dict(events)["citations"]
    assert citations and "fifteen days" in citations[0]["text"]
    done = dict(events)["done"]
    assert "fifteen" in done["answer"]
    # the second turn continues the conversation, on the other server too
    again = site.chat(link["token"], visitor["token"], "And expense claims?",
                      base=site.bases[1], conversation_id=done["conversation_id"])
    assert again.status_code == 200, again.text
    assert again.json()["conversation_id"] == done["conversation_id"]
    assert again.json()["model"] == "" and again.json()["usage"]["cost"] == 0  # workspace's
    assert dict(events)["usage"]["cost"] == 0
    # another visitor session cannot continue it
    other = site.session(link["token"]).json()
    stolen = site.chat(link["token"], other["token"], conversation_id=done["conversation_id"])
    assert stolen.status_code == 404

    # the owners see the conversation with its channel and link, and can rate its answers
    convs = site.api("GET", f"/v1/conversations?assistant={site.slug}")
    mine = next(c for c in convs if c["id"] == done["conversation_id"])
    assert mine["channel"] == "share" and mine["share_link_id"] == link["id"]
    assert mine["user_id"] is None and mine["key_id"] is None
    by_channel = {ch: {c["id"] for c in site.api("GET", f"/v1/conversations?channel={ch}")}
                  for ch in ("api", "share", "widget")}
    assert done["conversation_id"] in by_channel["share"]
    assert not by_channel["share"] & (by_channel["api"] | by_channel["widget"])
    msgs = site.api("GET", f"/v1/conversations/{done['conversation_id']}/messages")
    assert len(msgs) == 4
    # the visitor rates its answer; another visitor session cannot; the owners see it
    def rate(visitor_token: str, message_id: int, rating: str = "down") -> httpx.Response:
        return httpx.post(f"{site.base}/s/{link['token']}/feedback", json={
            "message_id": message_id, "rating": rating, "comment": "too short"},
            headers={"Authorization": f"Bearer {visitor_token}"})

    assert rate(visitor["token"], done["message_id"]).status_code == 201
    assert rate(other["token"], done["message_id"], "up").status_code == 404
    assert rate(visitor["token"], done["message_id"] - 1).status_code == 404  # the question
    assert rate(visitor["token"], 987654).status_code == 404
    rated = next(f for f in site.api("GET", "/v1/feedback")
                 if f["message_id"] == done["message_id"])
    assert rated["rating"] == -1 and rated["comment"] == "too short"
    assert "channel:share" in rated["tags"]
    site.api("POST", f"/v1/messages/{done['message_id']}/feedback", 201, json={"rating": "up"})


def test_dead_links_answer_404_alike(site: Site) -> None:
    def gone(token: str) -> None:
        page = httpx.get(f"{site.base}/s/{token}")  # the same page, which then says so
        assert page.status_code == 404 and "sharepage.js" in page.text
        assert "frame-ancestors 'self';" in page.headers["content-security-policy"]
        for r in (httpx.post(f"{site.base}/s/{token}/session", json={}),
                  httpx.post(f"{site.base}/s/{token}/chat", json={"message": "x"})):
            assert r.status_code == 404, (token, r.status_code, r.text)
            assert r.json()["error"]["message"] == GONE

    gone("zkl_unknown")
    link = site.link()
    visitor = site.session(link["token"]).json()["token"]
    rotated = site.api("POST", f"/v1/share-links/{link['id']}/rotate")
    assert rotated["token"] != link["token"] and rotated["signing_secret"] is None
    gone(link["token"])
    # the old visitor token died with the old token
    r = site.chat(rotated["token"], visitor)
    assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
    site.api("PATCH", f"/v1/share-links/{link['id']}", json={"enabled": False})
    gone(rotated["token"])
    site.api("PATCH", f"/v1/share-links/{link['id']}", json={"enabled": True})
    site.session(rotated["token"])
    site.api("PATCH", f"/v1/share-links/{link['id']}", json={"expires_at": "2020-01-01T00:00:00Z"})
    gone(rotated["token"])
    site.api("PATCH", f"/v1/share-links/{link['id']}", json={"expires_at": None})
    site.session(rotated["token"])
    site.api("DELETE", f"/v1/share-links/{link['id']}")
    gone(rotated["token"])
    # a link whose assistant was deleted
    site.api("POST", "/v1/assistants", 201, json={"slug": "temp-bot", "config": {
        "knowledge_bases": ["handbook"]}})
    site.api("POST", "/v1/assistants/temp-bot/publish", json={})
    temp = site.api("POST", "/v1/assistants/temp-bot/share-links", 201, json={})
    site.session(temp["token"])
    site.api("DELETE", "/v1/assistants/temp-bot")
    gone(temp["token"])


def test_unpublished_assistant_cannot_be_shared(site: Site) -> None:
    site.api("POST", "/v1/assistants", 201, json={"slug": "draft-bot", "config": {
        "knowledge_bases": ["handbook"]}})
    r = site.api("POST", "/v1/assistants/draft-bot/share-links", 409, json={})
    assert "publish" in r["error"]["message"]


def test_password(site: Site) -> None:
    link = site.link(password="open sesame")
    assert link["has_password"]
    r = site.session(link["token"], 401)
    assert r.json()["error"]["needs"] == "password"
    r = site.session(link["token"], 401, password="wrong one")
    assert r.json()["error"]["needs"] == "password"
    assert site.session(link["token"], password="open sesame").json()["token"]
    site.api("PATCH", f"/v1/share-links/{link['id']}", json={"password": None})
    site.session(link["token"])


def test_rate_limit_and_daily_quota_hold_across_instances(site: Site) -> None:
    link = site.link(rate_per_minute=4, daily_quota=100)
    one, two = site.bases
    statuses = [site.session(link["token"], base=b, want=200).status_code
                for b in (one, two, one, two)]
    assert statuses == [200] * 4
    r = httpx.post(f"{two}/s/{link['token']}/session", json={})
    if r.status_code == 200:  # the minute turned between the calls: fill the new one
        for _ in range(4):
            r = httpx.post(f"{one}/s/{link['token']}/session", json={})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["type"] == "rate_limited"

    quota = site.link(rate_per_minute=100, daily_quota=2)
    visitor = site.session(quota["token"]).json()["token"]
    assert site.chat(quota["token"], visitor, base=one).status_code == 200
    assert site.chat(quota["token"], visitor, base=two).status_code == 200
    over = site.chat(quota["token"], visitor, base=one)
    assert over.status_code == 429 and "today" in over.json()["error"]["message"]
    assert int(over.headers["retry-after"]) <= 86401


def test_origins_frame_ancestors_and_cors(site: Site) -> None:
    default = site.link()
    page = httpx.get(f"{site.base}/s/{default['token']}")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'self';" in csp and "x-frame-options" not in page.headers
    assert page.headers["referrer-policy"] == "no-referrer"
    refused = site.session(default["token"], 403, headers={"Origin": INTRANET})
    assert "origin" in refused.json()["error"]["message"]

    link = site.link(allowed_origins=[INTRANET + "/", "https://Portal.Example:443"])
    assert link["allowed_origins"] == [INTRANET, "https://portal.example"]
    csp = httpx.get(f"{site.base}/s/{link['token']}").headers["content-security-policy"]
    assert f"frame-ancestors 'self' {INTRANET} https://portal.example;" in csp
    # console pages stay unframable
    assert "frame-ancestors 'none'" in httpx.get(f"{site.base}/").headers[
        "content-security-policy"]
    pre = httpx.options(f"{site.base}/s/{link['token']}/session", headers={
        "Origin": INTRANET, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == INTRANET
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()
    bad_pre = httpx.options(f"{site.base}/s/{link['token']}/chat", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in bad_pre.headers
    site.session(link["token"], 403, headers={"Origin": "http://evil.example"})
    made = site.session(link["token"], headers={"Origin": INTRANET})
    assert made.headers["access-control-allow-origin"] == INTRANET
    body = made.json()
    assert body["channel"] == "widget"
    visitor = body["token"]
    ok = site.chat(link["token"], visitor, headers={"Origin": INTRANET})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == INTRANET
    # a token made for one origin works from that origin only
    for headers in ({}, {"Origin": "https://portal.example"}, {"Origin": "http://evil.example"}):
        r = site.chat(link["token"], visitor, headers=headers)
        assert r.status_code in (401, 403), (headers, r.status_code)
        assert "access-control-allow-origin" not in r.headers
    # the server's own page (same origin) gets a token for itself
    same = site.session(link["token"], headers={"Origin": site.base}).json()
    assert same["channel"] == "share"
    assert site.chat(link["token"], same["token"], headers={"Origin": site.base}).status_code == 200
    assert site.session(link["token"], embedded=True).json()["channel"] == "widget"


def test_visitor_token_opens_nothing_else(site: Site) -> None:
    link, other = site.link(), site.link()
    visitor = site.session(link["token"]).json()["token"]
    auth = {"Authorization": f"Bearer {visitor}"}
    for method, path in (("GET", "/v1/assistants"), ("GET", "/v1/conversations"),
                         ("GET", "/v1/kbs"), ("GET", f"/v1/assistants/{site.slug}"),
                         ("POST", f"/v1/assistants/{site.slug}/chat"),
                         ("GET", f"/v1/assistants/{site.slug}/share-links"),
                         ("POST", "/v1/search"), ("GET", "/v1/auth/me"),
                         ("POST", "/v1/chat/completions")):
        body = {"message": "x", "query": "x"} if method == "POST" else None
        r = httpx.request(method, site.base + path, headers=auth, json=body)
        assert r.status_code == 401, (method, path, r.status_code)
    r = site.chat(other["token"], visitor)
    assert r.status_code == 401
    forged = visitor[:-3] + ("AAA" if not visitor.endswith("AAA") else "BBB")
    assert site.chat(link["token"], forged).status_code == 401
    assert httpx.post(f"{site.base}/s/{link['token']}/chat",
                      json={"message": "x"}).status_code == 401
    # another workspace's link works for its own assistant only
    other_ws = seed_other(site)
    r = site.chat(other_ws, visitor)
    assert r.status_code == 401


def seed_other(site: Site) -> str:
    """A link of a second workspace (same servers)."""
    globex = make_tenant(site.settings, "globex")
    h = globex.headers
    base = site.base
    assert httpx.post(f"{base}/v1/kbs", headers=h, json={"name": "g"}).status_code == 201
    made = httpx.post(f"{base}/v1/assistants", headers=h, json={
        "slug": site.slug, "config": {"knowledge_bases": ["g"]}})
    assert made.status_code == 201, made.text
    assert httpx.post(f"{base}/v1/assistants/{site.slug}/publish", headers=h,
                      json={}).status_code == 200
    link = httpx.post(f"{base}/v1/assistants/{site.slug}/share-links", headers=h, json={})
    assert link.status_code == 201
    # acme's key cannot see or change globex's link
    lid = link.json()["id"]
    assert httpx.patch(f"{base}/v1/share-links/{lid}", headers=site.tenant.headers,
                       json={"enabled": False}).status_code == 404
    return str(link.json()["token"])


def test_signed_identity(site: Site) -> None:
    link = site.link()
    secret, token = link["signing_secret"], link["token"]
    exp = int(time.time()) + 600
    signed = site.session(token, user="e1024@corp", exp=exp,
                          sig=identity_signature(secret, "e1024@corp", exp)).json()
    assert signed["user"] == "e1024@corp"
    answer = site.chat(token, signed["token"]).json()
    conv = site.api("GET", f"/v1/conversations/{answer['conversation_id']}")
    assert conv["external_user"] == "e1024@corp" and conv["channel"] == "share"
    forged = site.session(token, 401, user="ceo@corp", exp=exp,
                          sig=identity_signature(secret, "e1024@corp", exp))
    assert "signature" in forged.json()["error"]["message"]
    old = int(time.time()) - 5
    expired = site.session(token, 401, user="e1024@corp", exp=old,
                           sig=identity_signature(secret, "e1024@corp", old))
    assert "expired" in expired.json()["error"]["message"]
    site.session(token, 401, user="e1024@corp", exp=exp)  # no signature
    renewed = site.api("POST", f"/v1/share-links/{link['id']}/rotate",
                       json={"signing_secret": True})
    assert renewed["signing_secret"] not in (None, secret)
    site.session(renewed["token"], 401, user="e1024@corp", exp=exp,
                 sig=identity_signature(secret, "e1024@corp", exp))


def test_admin_rules(site: Site) -> None:
    key = site.api("POST", "/v1/keys", 201, json={"name": "reader", "access": "read"})["key"]
    reader = {"Authorization": f"Bearer {key}"}
    r = httpx.post(f"{site.base}/v1/assistants/{site.slug}/share-links", headers=reader, json={})
    assert r.status_code == 403
    assert httpx.get(f"{site.base}/v1/assistants/{site.slug}/share-links",
                     headers=reader).status_code == 403
    link = site.link()
    assert httpx.delete(f"{site.base}/v1/share-links/{link['id']}",
                        headers=reader).status_code == 403
    for bad in ({"allowed_origins": ["javascript:alert(1)"]}, {"expires_at": "soon"},
                {"rate_per_minute": 0}, {"allowed_origins": ["http://a.example/path"]}):
        site.api("POST", f"/v1/assistants/{site.slug}/share-links", 422 if "rate" in str(bad)
                 else 400, json=bad)
    widget = httpx.get(f"{site.base}/widget.js")
    assert widget.status_code == 200 and "javascript" in widget.headers["content-type"]
    assert "data-share" in widget.text or "dataset.share" in widget.text
