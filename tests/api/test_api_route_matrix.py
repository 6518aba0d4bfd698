"""Who may call what: every route of the app, called by every kind of caller, against one
explicit table of rules.

``ROUTES`` maps each (method, path) to the name of a rule; ``RULES`` says which callers a rule
admits. A route missing from the table fails ``test_every_route_has_a_rule``, so no route ships
without one. "Allowed" means the answer is not 401, 403 or 404 (it may still be another 4xx,
e.g. 409 or 415: the request got past authorization); "denied" means 401, 403 or 404.

One server (in-process) with two workspaces is seeded once per module: workspace ``acme`` with
an owner, admin, editor and viewer, keys of each access level and scope, knowledge bases,
documents, an assistant, a conversation and an eval run; workspace ``globex`` with an admin key.
Destructive routes act on throw-away resources made again whenever a call consumed them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_helpers import HANDBOOK, api_settings, make_tenant, wait_job
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from hashing import CHEAP
from waiting import wait_until
from zhiku.accounts.store import AccountStore
from zhiku.api.app import create_app
from zhiku.core.settings import Settings
from zhiku.store.db import open_database

KB, KB2, BOT, BOT2 = "kb1", "kb2", "kb1-bot", "kb2-bot"
# Apps of every kind share one namespace of slugs: the workflow and the agent have their own.
FLOW_SLUG, AGENT_SLUG = "flow1", "agent1"
# A workflow that runs without a model.
FLOW = {"nodes": [{"id": "start", "type": "start", "inputs": [{"name": "q", "type": "string"}]},
                  {"id": "echo", "type": "template", "template": "You asked: {{ start.q }}"},
                  {"id": "end", "type": "end", "outputs": {"text": "echo.text"}}],
        "edges": [{"source": "start", "target": "echo"}, {"source": "echo", "target": "end"}]}
AGENT = {"model": "nowhere/model", "instructions": "Be brief.", "tools": ["calculator"]}
# A web source on a port nobody listens at: its runs fail fast (the URL guard refuses it).
KB_SOURCE = {"kind": "web", "config": {"start_urls": ["http://127.0.0.1:9/"], "delay_s": 0}}
SOURCE = {"kind": "openapi", "base_url": "http://127.0.0.1:9", "spec": {
    "openapi": "3.0.3", "info": {"title": "Pets", "version": "1"},
    "paths": {"/pets": {"get": {"operationId": "listPets"}}}}}
# (127.0.0.1:9 is on the seeded server's URL allow-list, as a local model server would be)
PROVIDER = {"base_url": "http://127.0.0.1:9/v1", "models": ["model"], "max_retries": 0,
            "api_key": "sk-matrix-0000000000000000"}
BOT_KBS = {BOT: {KB}, BOT2: {KB2}}
# Throw-away targets of destructive routes; the write key limited to KB may reach them too.
pytestmark = pytest.mark.shared_server
VICTIM_KB, VICTIM_BOT = "victim-kb", "victim-bot"
READ, WRITE, ADMIN, OWNER = 1, 2, 3, 4


@dataclass(frozen=True)
class Who:
    """A kind of caller and what the rules need to know about it."""

    name: str
    workspace: str | None = "acme"  # None: no credentials
    level: int = 0
    session: bool = False  # a signed-in user (a session token), not an API key
    kbs: frozenset[str] | None = None  # a key's knowledge-base scope (None: all)
    bots: frozenset[str] | None = None  # a key's assistant scope (None: all)
    alive: bool = True  # False: a revoked key, a removed member's session or key

    @property
    def unscoped(self) -> bool:
        return self.kbs is None and self.bots is None

    def reaches_kb(self, kb: str = KB) -> bool:
        """In scope for ``kb``: a key limited to assistants reaches only their knowledge bases."""
        in_kbs = self.kbs is None or kb in self.kbs
        in_bots = self.bots is None or any(kb in BOT_KBS.get(b, ()) for b in self.bots)
        return in_kbs and in_bots

    def reaches_bot(self, bot: str = BOT) -> bool:
        return (self.bots is None or bot in self.bots) and all(
            self.reaches_kb(k) for k in BOT_KBS[bot])


PRINCIPALS = [
    Who("anonymous", workspace=None),
    Who("owner", level=OWNER, session=True),
    Who("admin", level=ADMIN, session=True),
    Who("editor", level=WRITE, session=True),
    Who("viewer", level=READ, session=True),
    Who("key-read", level=READ),
    Who("key-read_write", level=WRITE),
    Who("key-admin", level=ADMIN),
    Who("key-admin@kb2", level=ADMIN, kbs=frozenset({KB2})),
    Who("key-read_write@kb1", level=WRITE, kbs=frozenset({KB, VICTIM_KB})),
    Who("key-read@kb1-bot", level=READ, bots=frozenset({BOT})),
    Who("key-read@kb2-bot", level=READ, bots=frozenset({BOT2})),
    Who("other-workspace-admin-key", workspace="globex", level=ADMIN),
    Who("revoked-key", level=ADMIN, alive=False),
    Who("removed-member-session", level=ADMIN, session=True, alive=False),
    Who("removed-member-key", level=WRITE, alive=False),
]
BY_NAME = {w.name: w for w in PRINCIPALS}

# Each rule: which (live) callers it admits. Rules about acme's own resources are also
# denied to callers of another workspace (see ``names_acme_resource``).
RULES: dict[str, Callable[[Who], bool]] = {
    # anyone, even without credentials
    "public": lambda w: True,
    # any valid credentials, of any workspace (lists are filtered to the caller's scope)
    "authenticated": lambda w: w.level >= READ,
    # a signed-in user, not an API key
    "session": lambda w: w.session,
    # reading knowledge base kb1: its documents, chunks, jobs, graph, search in it
    "kb-read": lambda w: w.level >= READ and w.reaches_kb(),
    # changing kb1 or its documents
    "kb-write": lambda w: w.level >= WRITE and w.reaches_kb(),
    # administering kb1 (e.g. retrying its jobs)
    "kb-admin": lambda w: w.level >= ADMIN and w.reaches_kb(),
    # using assistant kb1-bot (over kb1): read it, chat with it, read its conversations
    "assistant-read": lambda w: w.level >= READ and w.reaches_bot(),
    # changing kb1-bot
    "assistant-write": lambda w: w.level >= WRITE and w.reaches_bot(),
    # a conversation of kb1-bot that someone else (the owner's key) started: reading, rating
    # or deleting it takes an admin whose scope reaches the assistant (its starter may too)
    "conversation": lambda w: w.level >= ADMIN and w.reaches_bot(),
    # figures of one app (kb1-bot): an admin whose scope reaches it
    "app-admin": lambda w: w.level >= ADMIN and w.reaches_bot(),
    # creating a new knowledge base: write access to the whole workspace
    "write": lambda w: w.level >= WRITE and w.unscoped,
    # evaluation sets and runs span the workspace: keys limited to some names are refused
    "evals-read": lambda w: w.level >= READ and w.unscoped,
    "evals-write": lambda w: w.level >= WRITE and w.unscoped,
    # eval sets made from the conversation log: an admin's, over the whole workspace
    "evals-admin": lambda w: w.level >= ADMIN and w.unscoped,
    # workspace figures (all jobs, feedback, usage), filtered to the caller's scope
    "admin": lambda w: w.level >= ADMIN,
    # members and keys: admins with a session or an unscoped admin key; a key limited to
    # some names can neither see nor make keys wider than itself nor manage people
    "manage": lambda w: w.level >= ADMIN and w.unscoped,
    # one member's record: "manage", or the viewer reading their own (the target is the viewer)
    "manage-or-self": lambda w: (w.level >= ADMIN and w.unscoped) or w.name == "viewer",
    # answering an invitation: only the invited person, and none of these callers is invited
    "invitee": lambda w: False,
    # workspace-wide things below manage: any level, but no name scope
    "unscoped-read": lambda w: w.level >= READ and w.unscoped,
    "unscoped-write": lambda w: w.level >= WRITE and w.unscoped,
    # a share link's chat: only a visitor token of that link, which none of these callers holds
    "visitor": lambda w: False,
    # single sign-on: public, but this world configures no provider or directory, so every
    # caller gets 404 (tests/sso drives them against real servers)
    "sso-unconfigured": lambda w: False,
}

ROUTES: dict[tuple[str, str], str] = {
    # health, docs, console
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "manage",  # server-wide counters (or ZHIKU_METRICS_TOKEN)
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/docs/start.js"): "public",
    ("GET", "/docs/assets/{asset}"): "public",
    ("GET", "/"): "public",
    ("GET", "/console"): "public",
    ("GET", "/console/v/{version}/{path:path}"): "public",
    ("GET", "/console/{path:path}"): "public",
    # sessions, members, workspaces, keys
    ("POST", "/v1/auth/login"): "public",
    ("POST", "/v1/auth/signup"): "public",
    ("GET", "/v1/auth/methods"): "public",
    ("GET", "/v1/auth/oidc/login"): "sso-unconfigured",
    ("GET", "/v1/auth/oidc/callback"): "sso-unconfigured",
    ("POST", "/v1/auth/ldap/login"): "sso-unconfigured",
    ("GET", "/v1/workspace/signin"): "unscoped-read",
    ("PATCH", "/v1/workspace/signin"): "manage",
    ("GET", "/v1/auth/invitations"): "session",
    ("POST", "/v1/auth/invitations/{invitation_id}/accept"): "invitee",
    ("POST", "/v1/auth/invitations/{invitation_id}/decline"): "invitee",
    ("GET", "/v1/invitations"): "manage",
    ("DELETE", "/v1/invitations/{invitation_id}"): "manage",
    ("POST", "/v1/auth/logout"): "authenticated",
    ("GET", "/v1/auth/me"): "authenticated",
    ("GET", "/v1/users"): "manage",
    ("POST", "/v1/users"): "manage",
    ("GET", "/v1/users/{user_id}"): "manage-or-self",
    ("PATCH", "/v1/users/{user_id}"): "manage",
    ("DELETE", "/v1/users/{user_id}"): "manage",
    ("GET", "/v1/workspaces"): "authenticated",
    ("GET", "/v1/workspace"): "authenticated",
    ("POST", "/v1/workspaces"): "session",
    ("GET", "/v1/keys"): "admin",  # filtered: keys no wider than the caller
    ("POST", "/v1/keys"): "manage",
    ("GET", "/v1/keys/{key_id}"): "manage",
    ("DELETE", "/v1/keys/{key_id}"): "manage",
    # knowledge bases, documents, pages, chunks, jobs
    ("GET", "/v1/kbs"): "authenticated",
    ("POST", "/v1/kbs"): "write",
    ("GET", "/v1/kbs/{kb}"): "kb-read",
    ("PATCH", "/v1/kbs/{kb}"): "kb-write",
    ("DELETE", "/v1/kbs/{kb}"): "kb-write",
    ("GET", "/v1/kbs/{kb}/documents"): "kb-read",
    ("POST", "/v1/kbs/{kb}/documents"): "kb-write",
    ("POST", "/v1/kbs/{kb}/documents/url"): "kb-write",
    ("GET", "/v1/kbs/{kb}/documents/{doc_id}"): "kb-read",
    ("PATCH", "/v1/kbs/{kb}/documents/{doc_id}"): "kb-write",
    ("DELETE", "/v1/kbs/{kb}/documents/{doc_id}"): "kb-write",
    ("POST", "/v1/kbs/{kb}/documents/{doc_id}/reindex"): "kb-write",
    ("POST", "/v1/kbs/{kb}/documents/batch"): "kb-write",
    ("POST", "/v1/kbs/{kb}/reindex"): "kb-write",
    ("POST", "/v1/kbs/{kb}/embedder"): "kb-write",
    ("GET", "/v1/embedders"): "authenticated",
    ("GET", "/v1/formats"): "authenticated",
    ("GET", "/v1/kbs/{kb}/documents/{doc_id}/original"): "kb-read",
    ("GET", "/v1/kbs/{kb}/documents/{doc_id}/pages"): "kb-read",
    ("GET", "/v1/kbs/{kb}/documents/{doc_id}/pages/{page}"): "kb-read",
    ("GET", "/v1/kbs/{kb}/documents/{doc_id}/chunks"): "kb-read",
    ("GET", "/v1/kbs/{kb}/chunks/{chunk_id}"): "kb-read",
    ("PATCH", "/v1/kbs/{kb}/chunks/{chunk_id}"): "kb-write",
    ("GET", "/v1/kbs/{kb}/jobs"): "kb-read",
    ("GET", "/v1/jobs"): "admin",
    ("GET", "/v1/jobs/{job_id}"): "kb-read",
    ("GET", "/v1/jobs/{job_id}/events"): "kb-read",
    ("POST", "/v1/jobs/{job_id}/retry"): "kb-admin",
    # search and the knowledge graph
    ("POST", "/v1/search"): "kb-read",
    ("GET", "/v1/kbs/{kb}/graph"): "kb-read",
    ("GET", "/v1/kbs/{kb}/graph/entities"): "kb-read",
    ("GET", "/v1/kbs/{kb}/graph/entities/{entity:path}"): "kb-read",
    ("GET", "/v1/kbs/{kb}/graph/path"): "kb-read",
    ("GET", "/v1/kbs/{kb}/graph/export"): "kb-read",
    ("GET", "/v1/kbs/{kb}/graph/subgraph"): "kb-read",
    ("POST", "/v1/kbs/{kb}/graph/build"): "kb-write",
    # assistants, chat, conversations, feedback, usage
    ("GET", "/v1/assistants"): "authenticated",
    ("POST", "/v1/assistants"): "kb-write",
    ("GET", "/v1/assistants/{slug}"): "assistant-read",
    ("PATCH", "/v1/assistants/{slug}"): "assistant-write",
    ("DELETE", "/v1/assistants/{slug}"): "assistant-write",
    ("GET", "/v1/assistants/{slug}/versions"): "assistant-read",
    ("GET", "/v1/assistants/{slug}/diff"): "assistant-read",
    ("POST", "/v1/assistants/{slug}/publish"): "assistant-write",
    ("POST", "/v1/assistants/{slug}/rollback"): "assistant-write",
    # an assistant's releases checked on an eval set: scorecards run the whole set
    ("PUT", "/v1/assistants/{slug}/eval-set"): "evals-write",
    ("GET", "/v1/assistants/{slug}/scorecard"): "evals-read",
    ("POST", "/v1/assistants/{slug}/gate"): "evals-write",
    ("PUT", "/v1/apps/{slug}/eval-set"): "evals-write",
    ("GET", "/v1/apps/{slug}/scorecard"): "evals-read",
    ("POST", "/v1/apps/{slug}/gate"): "evals-write",
    ("POST", "/v1/assistants/{slug}/chat"): "assistant-read",
    ("GET", "/v1/models"): "authenticated",
    ("POST", "/v1/chat/completions"): "assistant-read",
    ("GET", "/v1/conversations"): "authenticated",
    ("GET", "/v1/conversations/{conversation_id}"): "conversation",
    ("GET", "/v1/conversations/{conversation_id}/messages"): "conversation",
    ("DELETE", "/v1/conversations/{conversation_id}"): "conversation",
    ("POST", "/v1/messages/{message_id}/feedback"): "conversation",
    ("GET", "/v1/feedback"): "admin",
    # the conversation log: admins, filtered to a scoped key's assistants
    ("GET", "/v1/logs/conversations"): "admin",
    ("GET", "/v1/logs/conversations/{conversation_id}"): "conversation",
    ("POST", "/v1/logs/messages/{message_id}/correct"): "conversation",
    ("GET", "/v1/logs/unanswered"): "admin",
    ("POST", "/v1/logs/eval-sets"): "evals-admin",
    ("GET", "/v1/usage"): "admin",
    ("GET", "/v1/usage/series"): "admin",
    # the audit log names members, keys and every resource: workspace-wide admins only
    ("GET", "/v1/audit"): "manage",
    ("GET", "/v1/audit.jsonl"): "manage",
    # evaluation
    ("GET", "/v1/evals/sets"): "evals-read",
    ("POST", "/v1/evals/sets"): "evals-write",
    ("POST", "/v1/evals/sets/upload"): "evals-write",
    ("GET", "/v1/evals/sets/{eval_set}/questions"): "evals-read",
    ("GET", "/v1/evals/runs"): "evals-read",
    ("POST", "/v1/evals/runs"): "evals-write",
    ("GET", "/v1/evals/runs/{run_id}"): "evals-read",
    ("GET", "/v1/evals/runs/{run_id}/results"): "evals-read",
    ("GET", "/v1/evals/compare"): "evals-read",
    # MCP over streamable HTTP: any valid credential; each tool then checks the caller's scope
    ("POST", "/mcp"): "authenticated",
    # workflows reach every knowledge base and model of the workspace: no name-limited keys
    ("GET", "/v1/workflows"): "unscoped-read",
    ("POST", "/v1/workflows"): "unscoped-write",
    ("POST", "/v1/workflow-validation"): "unscoped-read",
    ("GET", "/v1/workflows/{slug}"): "unscoped-read",
    ("PATCH", "/v1/workflows/{slug}"): "unscoped-write",
    ("DELETE", "/v1/workflows/{slug}"): "unscoped-write",
    ("POST", "/v1/workflows/{slug}/publish"): "unscoped-write",
    ("GET", "/v1/workflows/{slug}/versions"): "unscoped-read",
    ("POST", "/v1/workflows/{slug}/run"): "unscoped-read",
    ("GET", "/v1/workflows/{slug}/runs"): "unscoped-read",
    ("GET", "/v1/workflow-runs/{workflow_run_id}"): "unscoped-read",
    ("POST", "/v1/workflow-runs/{workflow_run_id}/replay"): "unscoped-write",
    # agents too; tool sources (a stdio MCP server runs a command here) take an unscoped admin
    ("GET", "/v1/agents"): "unscoped-read",
    ("POST", "/v1/agents"): "unscoped-write",
    ("GET", "/v1/agents/{slug}"): "unscoped-read",
    ("PATCH", "/v1/agents/{slug}"): "unscoped-write",
    ("DELETE", "/v1/agents/{slug}"): "unscoped-write",
    ("POST", "/v1/agents/{slug}/publish"): "unscoped-write",
    ("GET", "/v1/agents/{slug}/versions"): "unscoped-read",
    ("POST", "/v1/agents/{slug}/rollback"): "unscoped-write",
    ("POST", "/v1/agents/{slug}/run"): "unscoped-read",
    # apps of every kind; {slug} is kb1-bot, an assistant (workflows and agents take the
    # unscoped rules above, tested in test_api_apps.py); its run {app_run_id} is the owner's
    # turn, which other callers see only as admins
    ("GET", "/v1/apps"): "authenticated",
    ("GET", "/v1/apps/{slug}"): "assistant-read",
    ("DELETE", "/v1/apps/{slug}"): "assistant-write",
    ("GET", "/v1/apps/{slug}/versions"): "assistant-read",
    ("POST", "/v1/apps/{slug}/publish"): "assistant-write",
    ("POST", "/v1/apps/{slug}/rollback"): "assistant-write",
    ("POST", "/v1/apps/{slug}/run"): "assistant-read",
    ("GET", "/v1/apps/{slug}/runs"): "assistant-read",
    ("GET", "/v1/apps/{slug}/runs/{app_run_id}"): "conversation",
    ("GET", "/v1/apps/{slug}/usage"): "app-admin",
    ("GET", "/v1/tool-sources"): "manage",
    ("POST", "/v1/tool-sources"): "manage",
    ("GET", "/v1/tool-sources/{source}"): "manage",
    ("DELETE", "/v1/tool-sources/{source}"): "manage",
    ("GET", "/v1/tool-sources/{source}/tools"): "manage",
    # sources a knowledge base is synced from: read and written like its documents
    ("GET", "/v1/source-kinds"): "authenticated",
    ("GET", "/v1/kbs/{kb}/sources"): "kb-read",
    ("POST", "/v1/kbs/{kb}/sources"): "kb-write",
    ("GET", "/v1/kbs/{kb}/sources/{kb_source}"): "kb-read",
    ("PATCH", "/v1/kbs/{kb}/sources/{kb_source}"): "kb-write",
    ("DELETE", "/v1/kbs/{kb}/sources/{kb_source}"): "kb-write",
    ("POST", "/v1/kbs/{kb}/sources/{kb_source}/sync"): "kb-write",
    ("GET", "/v1/kbs/{kb}/sources/{kb_source}/runs"): "kb-read",
    ("POST", "/v1/sources/{source_id}/sync"): "kb-write",
    ("GET", "/v1/sources/{source_id}/runs"): "kb-read",
    # groups of readers span the workspace; who may read a document or a source is an admin's
    ("GET", "/v1/groups"): "manage",
    ("POST", "/v1/groups"): "manage",
    ("GET", "/v1/groups/{group_id}"): "manage",
    ("PATCH", "/v1/groups/{group_id}"): "manage",
    ("DELETE", "/v1/groups/{group_id}"): "manage",
    ("POST", "/v1/groups/{group_id}/members"): "manage",
    ("DELETE", "/v1/groups/{group_id}/members/users/{user_id}"): "manage",
    ("DELETE", "/v1/groups/{group_id}/members/keys/{key_id}"): "manage",
    ("PUT", "/v1/kbs/{kb}/documents/{doc_id}/groups"): "kb-admin",
    ("GET", "/v1/sources/{source_id}/groups"): "kb-admin",
    ("PUT", "/v1/sources/{source_id}/groups"): "kb-admin",
    # share links of kb1-bot: whoever may change the assistant; the public page, visitor
    # sessions (and their CORS preflights) and the widget script need no credentials
    ("GET", "/v1/assistants/{slug}/share-links"): "assistant-write",
    ("POST", "/v1/assistants/{slug}/share-links"): "assistant-write",
    ("GET", "/v1/apps/{slug}/share-links"): "assistant-write",
    ("POST", "/v1/apps/{slug}/share-links"): "assistant-write",
    ("GET", "/v1/share-links/{link_id}"): "assistant-write",
    ("PATCH", "/v1/share-links/{link_id}"): "assistant-write",
    ("DELETE", "/v1/share-links/{link_id}"): "assistant-write",
    ("POST", "/v1/share-links/{link_id}/rotate"): "assistant-write",
    ("GET", "/s/{token}"): "public",
    ("POST", "/s/{token}/session"): "public",
    ("OPTIONS", "/s/{token}/session"): "public",
    ("OPTIONS", "/s/{token}/chat"): "public",
    ("POST", "/s/{token}/chat"): "visitor",
    ("OPTIONS", "/s/{token}/feedback"): "public",
    ("POST", "/s/{token}/feedback"): "visitor",
    ("GET", "/widget.js"): "public",
    # moderation: the workspace's policy and its log
    ("GET", "/v1/moderation"): "manage",
    ("PUT", "/v1/moderation"): "manage",
    ("DELETE", "/v1/moderation"): "manage",
    ("POST", "/v1/moderation/test"): "manage",
    ("GET", "/v1/moderation/hits"): "manage",
    # model providers: listed by any unscoped caller (never their keys); changed, tested (a
    # call with the workspace's key) and made the default only by an unscoped admin
    ("GET", "/v1/providers"): "unscoped-read",
    ("POST", "/v1/providers"): "manage",
    ("GET", "/v1/providers/{provider}"): "unscoped-read",
    ("PATCH", "/v1/providers/{provider}"): "manage",
    ("DELETE", "/v1/providers/{provider}"): "manage",
    ("POST", "/v1/providers/{provider}/test"): "manage",
    ("GET", "/v1/provider-presets"): "unscoped-read",
    ("GET", "/v1/provider-models"): "unscoped-read",
    ("GET", "/v1/workspace/default-model"): "unscoped-read",
    ("PUT", "/v1/workspace/default-model"): "manage",
}

# Routes whose body or query (rather than their path) names acme's resources.
NAMES_IN_BODY = {
    ("POST", "/v1/search"), ("POST", "/v1/assistants"), ("POST", "/v1/chat/completions"),
    ("POST", "/v1/evals/runs"), ("GET", "/v1/evals/compare"), ("POST", "/v1/logs/eval-sets"),
}

# Where today's code is more open than the table: (route or rule name, caller or "*").
# Each entry names the rule it breaks; remove it once that rule is enforced.
# "*" stands for every route or every caller.
KNOWN_OPEN: set[tuple[tuple[str, str] | str, str]] = set()


def is_known_open(route: tuple[str, str], who: Who) -> bool:
    return any((target in (route, ROUTES[route], "*") and name in (who.name, "*"))
               for target, name in KNOWN_OPEN)


def names_acme_resource(route: tuple[str, str]) -> bool:
    """Whether the request names acme's resources (so another workspace's caller gets 404)."""
    path = route[1]
    return ("{" in path and not path.startswith("/console")) or route in NAMES_IN_BODY


def expected(route: tuple[str, str], who: Who) -> bool:
    """Whether the table allows ``who`` to call ``route``."""
    rule = ROUTES[route]
    if rule == "public":
        return True
    if who.workspace is None or not who.alive:
        return False
    if who.workspace != "acme" and names_acme_resource(route):
        return False
    return RULES[rule](who)


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, OpenAPI or not (a mount: ``{asset}`` under it)."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for r in routes:
            if isinstance(r, Mount):
                found.add(("GET", f"{prefix}{r.path}/{{asset}}"))
            elif isinstance(r, Route):
                found.update((m, prefix + r.path) for m in r.methods or () if m != "HEAD")
            elif hasattr(r, "original_router"):  # a router included into the app
                extra = getattr(getattr(r, "include_context", None), "prefix", "") or ""
                walk(r.original_router.routes, prefix + extra)
            else:
                raise AssertionError(f"a route of an unknown kind: {r!r}")

    walk(app.routes, "")
    return found


def test_every_route_has_a_rule() -> None:
    routes = app_routes(create_app(Settings(home=Path("/nonexistent-not-opened"))))
    missing = sorted(routes - set(ROUTES))
    assert not missing, f"routes without a rule in ROUTES: {missing}"
    stale = sorted(set(ROUTES) - routes)
    assert not stale, f"rules for routes that no longer exist: {stale}"
    assert set(ROUTES.values()) <= set(RULES)
    for target, name in KNOWN_OPEN:
        assert target in ROUTES or target in RULES or target == "*", target
        assert name == "*" or name in BY_NAME, name


# -- the seeded server -------------------------------------------------------------------------


class World:
    """The seeded server: a client, callers' tokens, ids, and throw-away targets."""

    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.tokens: dict[str, str | None] = {"anonymous": None}
        self.passwords: dict[str, str] = {}
        self.ids: dict[str, Any] = {}
        self.owner_headers: dict[str, str] = {}
        self.counter = itertools.count(1)

    # what the owner's admin key does to set things up
    def call(self, method: str, url: str, want: int, **kw: Any) -> Any:
        r = self.client.request(method, url, headers=self.owner_headers, **kw)
        assert r.status_code == want, (method, url, r.status_code, r.text[:300])
        return r.json()

    def upload(self, kb: str, name: str, text: str) -> int:
        job = self.call("POST", f"/v1/kbs/{kb}/documents", 202,
                        files=[("files", (name, text.encode(), "text/markdown"))])
        done = wait_job(self.client, self.owner_headers, job["id"])
        assert done["status"] == "done", done
        return int(done["files"][0]["document_id"])

    def login(self, email: str) -> str:
        db = open_database(self.settings)
        try:
            return AccountStore(db, CHEAP).login(email, self.passwords[email], "acme", 1.0)
        finally:
            db.close()

    def exists(self, url: str) -> bool:
        r = self.client.get(url, headers=self.owner_headers)
        return r.status_code == 200 and r.json().get("revoked_at") is None

    def still_there(self, kind: str, have: Any) -> bool:
        if kind == "invitation_token":
            return False  # a token signs up once
        if kind == "invitation":
            pending = self.client.get("/v1/invitations", headers=self.owner_headers).json()
            return any(i["id"] == have for i in pending)
        return self.exists(VICTIM_CHECK[kind](have))

    # throw-away targets, made again once a call consumed them
    def victim(self, kind: str) -> Any:
        have = self.ids.get(f"victim_{kind}")
        if have is not None and self.still_there(kind, have):
            return have
        made = getattr(self, f"_make_{kind}")()
        self.ids[f"victim_{kind}"] = made
        return made

    def _make_kb(self) -> str:
        self.call("POST", "/v1/kbs", 201, json={"name": VICTIM_KB})
        return VICTIM_KB

    def _make_doc(self) -> int:
        n = next(self.counter)
        return self.upload(KB, f"victim-{n}.md", f"# Victim {n}\n\nA throw-away document {n}.\n")

    def _make_bot(self) -> str:
        self.call("POST", "/v1/assistants", 201,
                  json={"slug": VICTIM_BOT, "config": {"knowledge_bases": [KB]}})
        return VICTIM_BOT

    def _make_conversation(self) -> int:
        chat = self.call("POST", f"/v1/assistants/{BOT}/chat", 200,
                         json={"message": "How many days of paid annual leave?"})
        return int(chat["conversation_id"])

    def _make_workflow(self) -> str:
        self.call("POST", "/v1/workflows", 201,
                  json={"name": "Victim flow", "slug": "victim-flow", "definition": FLOW})
        return "victim-flow"

    def _make_agent(self) -> str:
        self.call("POST", "/v1/agents", 201,
                  json={"name": "Victim agent", "slug": "victim-agent", "config": AGENT})
        return "victim-agent"

    def _make_source(self) -> str:
        self.call("POST", "/v1/tool-sources", 201, json={"name": "victim-source", **SOURCE})
        return "victim-source"

    def _make_kb_source(self) -> str:
        self.call("POST", f"/v1/kbs/{KB}/sources", 201, json={"name": "victim-site", **KB_SOURCE})
        return "victim-site"
    def _make_link(self) -> int:
        made = self.call("POST", f"/v1/assistants/{BOT}/share-links", 201, json={})
        return int(made["id"])
    def _make_group(self) -> int:
        made = self.call("POST", "/v1/groups", 201, json={"name": f"victim-{next(self.counter)}"})
        return int(made["id"])

    def _make_provider(self) -> str:
        self.call("POST", "/v1/providers", 201, json={"name": "victim-provider", **PROVIDER})
        return "victim-provider"

    def _make_key(self) -> int:
        return int(self.call("POST", "/v1/keys", 201, json={"name": "victim"})["id"])

    def _make_invitation(self) -> int:
        n = next(self.counter)
        made = self.call("POST", "/v1/users", 202, json={"email": f"inv{n}@acme.example",
                                                          "role": "viewer"})
        return int(made["id"])

    def _make_invitation_token(self) -> str:
        n = next(self.counter)
        made = self.call("POST", "/v1/users", 202, json={"email": f"join{n}@acme.example",
                                                          "role": "viewer"})
        return str(made["token"])

    def _make_user(self) -> int:
        return self.add_member(f"victim{next(self.counter)}@acme.example", "viewer")

    def add_member(self, email: str, role: str) -> int:
        db = open_database(self.settings)
        try:
            auth = AccountStore(db, CHEAP)
            password = f"pw-{email}-long"
            user = auth.create_user(email, password)
            auth.set_role(user, self.ids["acme"], role)
        finally:
            db.close()
        self.passwords[email] = password
        return user


VICTIM_CHECK: dict[str, Callable[[Any], str]] = {
    "kb": lambda kb: f"/v1/kbs/{kb}",
    "doc": lambda doc: f"/v1/kbs/{KB}/documents/{doc}",
    "bot": lambda slug: f"/v1/assistants/{slug}",
    "workflow": lambda slug: f"/v1/workflows/{slug}",
    "agent": lambda slug: f"/v1/agents/{slug}",
    "source": lambda name: f"/v1/tool-sources/{name}",
    "kb_source": lambda name: f"/v1/kbs/{KB}/sources/{name}",
    "provider": lambda name: f"/v1/providers/{name}",
    "conversation": lambda cid: f"/v1/conversations/{cid}",
    "link": lambda link: f"/v1/share-links/{link}",
    "group": lambda group: f"/v1/groups/{group}",
    "key": lambda key: f"/v1/keys/{key}",  # a revoked key is still there, with revoked_at
    "user": lambda user: f"/v1/users/{user}",
}


def _seed(client: TestClient, settings: Settings) -> World:
    world = World(client, settings)
    acme = make_tenant(settings, "acme")
    globex = make_tenant(settings, "globex")
    world.ids["acme"] = acme.workspace_id
    world.owner_headers = acme.headers
    world.passwords[acme.email] = acme.password
    world.tokens["other-workspace-admin-key"] = globex.key

    world.call("POST", "/v1/kbs", 201, json={"name": KB, "settings": {"graph": True}})
    world.call("POST", "/v1/kbs", 201, json={"name": KB2})
    world.ids["doc_id"] = doc_id = world.upload(KB, "handbook.md", HANDBOOK)
    world.upload(KB2, "other.md", "# Other\n\nSomething else entirely.\n")
    jobs = world.call("GET", f"/v1/kbs/{KB}/jobs", 200)
    world.ids["job_id"] = jobs[-1]["id"]
    chunks = world.call("GET", f"/v1/kbs/{KB}/documents/{doc_id}/chunks", 200)
    world.ids["chunk_id"] = chunks[0]["id"]
    entities = world.call("GET", f"/v1/kbs/{KB}/graph/entities?limit=1", 200)
    world.ids["entity"] = entities[0]["name"]
    for slug, kb in ((BOT, KB), (BOT2, KB2)):
        world.call("POST", "/v1/assistants", 201,
                   json={"slug": slug, "name": "Bot", "config": {"knowledge_bases": [kb]}})
    chat = world.call("POST", f"/v1/assistants/{BOT}/chat", 200,
                      json={"message": "How many days of paid annual leave do new employees get?"})
    world.ids.update(conversation_id=chat["conversation_id"], message_id=chat["message_id"],
                     app_run_id=chat["message_id"])
    world.call("POST", f"/v1/assistants/{BOT}/publish", 200, json={})  # a version to roll back to
    world.ids.update(conversation_id=chat["conversation_id"], message_id=chat["message_id"])
    world.call("POST", f"/v1/assistants/{BOT}/publish", 200, json={"note": "shared"})
    link = world.call("POST", f"/v1/assistants/{BOT}/share-links", 201,
                      json={"rate_per_minute": 10_000})
    world.ids.update(link_id=link["id"], token=link["token"])
    world.call("POST", "/v1/workflows", 201,
               json={"name": "Flow", "slug": FLOW_SLUG, "definition": FLOW})
    flow_run = world.call("POST", f"/v1/workflows/{FLOW_SLUG}/run", 200,
                          json={"inputs": {"q": "hi"}})
    world.ids["workflow_run_id"] = flow_run["id"]
    # an agent on a provider nobody listens at: its runs end "model_error"
    for tenant in (acme, globex):
        client.app.state.api.runtime.workspace(tenant.workspace_id).add_provider(
            "nowhere", base_url="http://127.0.0.1:9/v1", models=["model"], max_retries=0)
    world.call("POST", "/v1/agents", 201,
               json={"name": "Agent", "slug": AGENT_SLUG, "config": AGENT})
    world.call("POST", f"/v1/agents/{AGENT_SLUG}/publish", 200, json={})
    world.call("POST", "/v1/tool-sources", 201, json={"name": "pets", **SOURCE})
    world.ids["source"] = "pets"
    made = world.call("POST", f"/v1/kbs/{KB}/sources", 201, json={"name": "site", **KB_SOURCE})
    world.ids.update(kb_source="site", source_id=made["id"])
    world.ids["group_id"] = world.call("POST", "/v1/groups", 201, json={"name": "matrix"})["id"]
    # a provider only acme has (globex's callers must get 404 for it)
    world.call("POST", "/v1/providers", 201, json={"name": "acme-llm", **PROVIDER})
    world.ids["provider"] = "acme-llm"
    world.call("POST", "/v1/evals/sets", 201,
               json={"name": "set1", "questions": [{"question": "annual leave?"}]})
    run = world.call("POST", "/v1/evals/runs", 202,
                     json={"eval_set": "set1", "kb": KB, "with_answer": False})
    world.ids["run_id"] = run["id"]
    wait_until(lambda: world.call("GET", f"/v1/evals/runs/{run['id']}", 200)["status"]
               != "running", 60, "the eval run to finish")
    # BOT's releases are checked on set1, and v1 is live (its scorecard stored)
    world.call("PUT", f"/v1/assistants/{BOT}/eval-set", 200, json={"eval_set": "set1"})
    world.call("POST", f"/v1/assistants/{BOT}/publish", 200, json={})

    # signed-in members
    world.tokens["owner"] = world.login(acme.email)
    for role in ("admin", "editor", "viewer"):
        email = f"{role}@acme.example"
        user = world.add_member(email, role)
        world.tokens[role] = world.login(email)
        world.ids[f"{role}_user_id"] = user
    # keys of each access level and scope
    for who in PRINCIPALS:
        if who.name.startswith("key-"):
            access = {READ: "read", WRITE: "read_write", ADMIN: "admin"}[who.level]
            body = {"name": who.name, "access": access,
                    "knowledge_bases": None if who.kbs is None else sorted(who.kbs),
                    "assistants": None if who.bots is None else sorted(who.bots)}
            world.tokens[who.name] = world.call("POST", "/v1/keys", 201, json=body)["key"]
    world.ids["key_id"] = world.victim("key")
    revoked = world.call("POST", "/v1/keys", 201, json={"name": "revoked", "access": "admin"})
    world.call("DELETE", f"/v1/keys/{revoked['id']}", 200)
    world.tokens["revoked-key"] = revoked["key"]
    # a member who made a key, then was removed: their session and key are dead
    leaver = world.add_member("leaver@acme.example", "admin")
    session = world.login("leaver@acme.example")
    r = client.post("/v1/keys", headers={"Authorization": f"Bearer {session}"},
                    json={"name": "leaver's", "access": "read_write"})
    assert r.status_code == 201, r.text
    world.tokens["removed-member-key"] = r.json()["key"]
    world.call("DELETE", f"/v1/users/{leaver}", 200)
    world.tokens["removed-member-session"] = session
    return world



@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory,
          make_settings: Callable[..., Settings]) -> Iterator[World]:
    home = tmp_path_factory.mktemp("matrix")
    base = api_settings(home)
    settings = make_settings(home, api_url_allowlist=["127.0.0.1:9"], **{
        k: getattr(base, k) for k in ("embedder", "api_rate_limit_per_minute", "ocr")})
    with TestClient(create_app(settings)) as client:
        yield _seed(client, settings)


# -- requests ----------------------------------------------------------------------------------

QUERIES = {
    "/v1/kbs/{kb}/graph/path": "?a={entity}&b={entity}",
    "/v1/evals/compare": "?a={run_id}&b={run_id}",
}
# Path parameters taken from a throw-away target (the call may consume it).
VICTIMS = {
    ("DELETE", "/v1/kbs/{kb}"): {"kb": "kb"},
    ("DELETE", "/v1/kbs/{kb}/documents/{doc_id}"): {"doc_id": "doc"},
    ("POST", "/v1/kbs/{kb}/documents/{doc_id}/reindex"): {"doc_id": "doc"},
    ("POST", "/v1/kbs/{kb}/reindex"): {"kb": "kb"},
    ("DELETE", "/v1/assistants/{slug}"): {"slug": "bot"},
    ("DELETE", "/v1/workflows/{slug}"): {"slug": "workflow"},
    ("DELETE", "/v1/agents/{slug}"): {"slug": "agent"},
    ("DELETE", "/v1/apps/{slug}"): {"slug": "bot"},
    ("DELETE", "/v1/tool-sources/{source}"): {"source": "source"},
    ("DELETE", "/v1/kbs/{kb}/sources/{kb_source}"): {"kb_source": "kb_source"},
    ("DELETE", "/v1/providers/{provider}"): {"provider": "provider"},
    ("DELETE", "/v1/conversations/{conversation_id}"): {"conversation_id": "conversation"},
    ("DELETE", "/v1/share-links/{link_id}"): {"link_id": "link"},
    ("DELETE", "/v1/groups/{group_id}"): {"group_id": "group"},
    ("POST", "/v1/share-links/{link_id}/rotate"): {"link_id": "link"},
    ("DELETE", "/v1/keys/{key_id}"): {"key_id": "key"},
    ("DELETE", "/v1/invitations/{invitation_id}"): {"invitation_id": "invitation"},
    ("POST", "/v1/auth/invitations/{invitation_id}/accept"): {"invitation_id": "invitation"},
    ("POST", "/v1/auth/invitations/{invitation_id}/decline"): {"invitation_id": "invitation"},
    ("PATCH", "/v1/users/{user_id}"): {"user_id": "user"},
    ("DELETE", "/v1/users/{user_id}"): {"user_id": "user"},
}


def _body(route: tuple[str, str], world: World) -> dict[str, Any]:
    """Request arguments that pass validation: a JSON body, or a file to upload."""
    n = next(world.counter)
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/v1/auth/login"): {"email": "viewer@acme.example",
                                     "password": world.passwords["viewer@acme.example"]},
        ("POST", "/v1/users"): {"email": f"new{n}@acme.example", "role": "viewer"},
        ("POST", "/v1/auth/signup"): {"token": world.victim("invitation_token"),
                                      "password": f"Signup-password-{n}"},
        ("PATCH", "/v1/users/{user_id}"): {"role": "viewer"},
        ("POST", "/v1/workspaces"): {"name": f"made-{n}"},
        ("POST", "/v1/auth/ldap/login"): {"login": "viewer", "password": "a-password"},
        ("PATCH", "/v1/workspace/signin"): {"password_signin": True},
        ("POST", "/v1/keys"): {"name": "made", "access": "read"},
        ("POST", "/v1/kbs"): {"name": "made-kb"},
        ("PATCH", "/v1/kbs/{kb}"): {"settings": {"graph": True}},
        ("POST", "/v1/kbs/{kb}/documents/url"): {"url": "http://127.0.0.1/blocked.html"},
        ("PATCH", "/v1/kbs/{kb}/documents/{doc_id}"): {"tags": ["hr", "policy"]},
        ("PUT", "/v1/kbs/{kb}/documents/{doc_id}/groups"): {"groups": None},
        ("PUT", "/v1/sources/{source_id}/groups"): {"groups": None},
        ("POST", "/v1/groups"): {"name": f"made-{n}"},
        ("PATCH", "/v1/groups/{group_id}"): {"description": f"edited {n}"},
        ("POST", "/v1/groups/{group_id}/members"): {"user_id": world.ids["viewer_user_id"]},
        ("POST", "/v1/kbs/{kb}/embedder"): {"embedder": "hashing"},
        ("POST", "/v1/kbs/{kb}/documents/batch"): {
            "action": "tag", "ids": [world.ids["doc_id"]], "tags": ["hr"]},
        ("PATCH", "/v1/kbs/{kb}/chunks/{chunk_id}"): {"enabled": True},
        ("POST", "/v1/search"): {"query": "annual leave", "knowledge_bases": [KB]},
        ("POST", "/v1/kbs/{kb}/graph/build"): {"communities": False},
        ("POST", "/v1/assistants"): {"slug": "made-bot", "config": {"knowledge_bases": [KB]}},
        ("PATCH", "/v1/assistants/{slug}"): {"name": "Bot"},
        ("POST", "/v1/assistants/{slug}/publish"): {"note": "matrix"},
        ("POST", "/v1/assistants/{slug}/rollback"): {"version": 1},
        ("PUT", "/v1/assistants/{slug}/eval-set"): {"eval_set": "set1"},
        ("PUT", "/v1/apps/{slug}/eval-set"): {"eval_set": "set1"},
        ("POST", "/v1/assistants/{slug}/chat"): {"message": "annual leave?"},
        ("POST", "/v1/chat/completions"): {
            "model": BOT, "messages": [{"role": "user", "content": "annual leave?"}]},
        ("POST", "/v1/messages/{message_id}/feedback"): {"rating": "up"},
        ("POST", "/v1/evals/sets"): {"name": "made-set", "replace": True,
                                     "questions": [{"question": "annual leave?"}]},
        ("POST", "/v1/evals/runs"): {"eval_set": "set1", "kb": KB, "with_answer": False},
        ("POST", "/v1/logs/messages/{message_id}/correct"): {"answer": "Fifteen days.",
                                                             "kb": KB},
        ("POST", "/v1/logs/eval-sets"): {"name": "from-log", "replace": True,
                                         "message_ids": [world.ids["message_id"]]},
        ("POST", "/v1/workflows"): {"name": f"Made {n}", "slug": f"made-{n}", "definition": FLOW},
        ("POST", "/v1/workflow-validation"): {"definition": FLOW},
        ("PATCH", "/v1/workflows/{slug}"): {"name": "Flow"},
        ("POST", "/v1/workflows/{slug}/publish"): {"note": "matrix"},
        ("POST", "/v1/workflows/{slug}/run"): {"inputs": {"q": "hi"}},
        ("POST", "/v1/agents"): {"name": f"Made {n}", "slug": f"made-agent-{n}",
                                 "config": AGENT},
        ("PATCH", "/v1/agents/{slug}"): {"name": "Agent"},
        ("POST", "/v1/agents/{slug}/publish"): {"note": "matrix"},
        ("POST", "/v1/agents/{slug}/rollback"): {"version": 1},
        ("POST", "/v1/agents/{slug}/run"): {"message": "hi"},
        ("POST", "/v1/tool-sources"): {"name": f"made-{n}", **SOURCE},
        ("POST", "/v1/apps/{slug}/publish"): {"note": "matrix"},
        ("POST", "/v1/apps/{slug}/rollback"): {"version": 1},
        ("POST", "/v1/apps/{slug}/run"): {"query": "annual leave?"},
        ("POST", "/v1/kbs/{kb}/sources"): {"name": f"made-{n}", **KB_SOURCE},
        ("PATCH", "/v1/kbs/{kb}/sources/{kb_source}"): {"schedule": None},
        ("POST", "/v1/kbs/{kb}/sources/{kb_source}/sync"): {},
        ("POST", "/v1/sources/{source_id}/sync"): {},
        ("POST", "/v1/assistants/{slug}/share-links"): {"name": f"made-{n}"},
        ("POST", "/v1/apps/{slug}/share-links"): {"name": f"app-{n}"},
        ("PATCH", "/v1/share-links/{link_id}"): {"name": "matrix"},
        ("POST", "/v1/share-links/{link_id}/rotate"): {"signing_secret": False},
        ("POST", "/s/{token}/session"): {},
        ("POST", "/s/{token}/chat"): {"message": "annual leave?"},
        ("POST", "/s/{token}/feedback"): {"message_id": world.ids["message_id"],
                                          "rating": "up"},
        ("PUT", "/v1/moderation"): {"enabled": False, "words": [{"word": "matrix"}]},
        ("POST", "/v1/moderation/test"): {"text": "a matrix test"},
        ("POST", "/v1/providers"): {"name": f"made-{n}", **PROVIDER},
        ("PATCH", "/v1/providers/{provider}"): {"timeout": 5},
        ("POST", "/v1/providers/{provider}/test"): {},
        ("PUT", "/v1/workspace/default-model"): {"model": None},
    }
    if route == ("POST", "/v1/kbs/{kb}/documents"):
        text = f"# Upload {n}\n\nUploaded by the route matrix.\n".encode()
        return {"files": [("files", (f"upload-{n}.md", text, "text/markdown"))]}
    if route == ("POST", "/v1/evals/sets/upload"):
        table = b"question,reference_answer\nannual leave?,fifteen days\n"
        return {"files": {"file": ("uploaded.csv", table, "text/csv")},
                "data": {"replace": "true"}}
    if route in bodies:
        return {"json": bodies[route]}
    return {}


def _url(route: tuple[str, str], world: World) -> str:
    path = route[1]
    slug = FLOW_SLUG if path.startswith("/v1/workflows/") else \
        AGENT_SLUG if path.startswith("/v1/agents/") else BOT
    values = {
        "kb": KB, "slug": slug, "page": 1,
        "asset": "swagger-ui.css", "path": "app.css", "version": "0123456789ab",
        "user_id": world.ids["viewer_user_id"], "eval_set": "set1", **world.ids,
    }
    for param, kind in VICTIMS.get(route, {}).items():
        values[param] = world.victim(kind)
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: str(values[m[1]]),
                  path + QUERIES.get(path, ""))


def _token(world: World, who: Who, route: tuple[str, str]) -> str | None:
    if route == ("POST", "/v1/auth/logout") and who.session and who.alive:
        email = "owner@acme.example" if who.name == "owner" else f"{who.name}@acme.example"
        return world.login(email)  # logging out ends the session: use a fresh one
    return world.tokens[who.name]


def _call(world: World, route: tuple[str, str], who: Who) -> Any:
    token = _token(world, who, route)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    r = world.client.request(route[0], _url(route, world), headers=headers,
                             follow_redirects=False, **_body(route, world))
    if r.status_code == 202 and "kind" in r.json():  # a job: let it finish (a re-index
        wait_job(world.client, world.owner_headers, r.json()["id"])  # replaces its document)
    return r


def _allowed(status: int) -> bool:
    return status not in (401, 403, 404)


def _mismatch(world: World, route: tuple[str, str], who: Who) -> str | None:
    """What is wrong with ``who`` calling ``route`` (None: it answers as the table says)."""
    r = _call(world, route, who)
    want = expected(route, who)
    if r.status_code >= 500:
        return f"{who.name}: {r.status_code} {r.text[:200]}"
    if _allowed(r.status_code) == want or (not want and is_known_open(route, who)):
        return None  # (a KNOWN_OPEN entry: today's code lets this through)
    return (f"{who.name}: {r.status_code} {r.text[:200]}; rule {ROUTES[route]!r} says "
            f"{'allowed' if want else 'denied'}")


# One test per route (all callers in it): a test's fixtures cost a fresh PostgreSQL database.
@pytest.mark.parametrize("route", list(ROUTES), ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_matrix(world: World, route: tuple[str, str]) -> None:
    wrong = [m for who in PRINCIPALS if (m := _mismatch(world, route, who)) is not None]
    assert not wrong, f"{route[0]} {route[1]}:\n" + "\n".join(wrong)


def test_known_open_entries_are_still_open(world: World) -> None:
    """Every KNOWN_OPEN entry is still needed: once its rule is enforced, the entry must go."""
    stale = []
    for target, name in KNOWN_OPEN:
        routes = [target] if isinstance(target, tuple) else [
            r for r, rule in ROUTES.items() if target in (rule, "*")]
        callers = PRINCIPALS if name == "*" else [BY_NAME[name]]
        cases = [(r, w) for r in routes for w in callers if not expected(r, w)]
        if not any(_allowed(_call(world, r, w).status_code) for r, w in cases):
            stale.append((target, name))
    assert not stale, f"KNOWN_OPEN entries no longer needed: {stale}"
