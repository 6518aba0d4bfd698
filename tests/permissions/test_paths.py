"""Every retrieval path × {allowed, not allowed}: a read key in group ``hr`` reads the
restricted document, a read key outside it never sees a word of it (search in every mode,
documents, chunks, chat, the OpenAI-compatible endpoint, apps, workflows, the graph browser,
MCP tools, share links); the admin key reads everything. Runs on both backends."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

import pytest
from api_helpers import api_settings, join, make_tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.accounts.store import AccountStore
from zhiku.api.app import create_app
from zhiku.core.settings import Settings
from zhiku.mcp.tools import WorkspaceTools
from zhiku.runtime import Runtime
from zhiku.share.tokens import identity_signature

pytestmark = pytest.mark.shared_server

SECRET = "# Zebracorn bonus pool\n\nThe zebracorn bonus pool code is QX7731 and it holds " \
         "4.2 million yuan for the executives.\n"
PUBLIC = "# Annual leave\n\nNew employees get fifteen days of paid annual leave. The bonus " \
         "pool rules are published each spring.\n"
LEAKS = ("QX7731", "bonus-secret")  # the restricted text and its file name
QUERY = "zebracorn bonus pool code"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory,
          make_settings: Callable[..., Settings]) -> Iterator[dict[str, Any]]:
    """One workspace: a knowledge base with a document restricted to ``hr`` and a public one,
    an extractive assistant, a workflow with a knowledge node, read keys in and out of
    ``hr``, a viewer in ``hr``, and the graph built."""
    home = tmp_path_factory.mktemp("perms")
    base = api_settings(home)
    settings = make_settings(home, **{k: getattr(base, k) for k in (
        "embedder", "api_rate_limit_per_minute", "ocr")})
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        h = t.headers
        assert client.post("/v1/kbs", headers=h, json={"name": "kb"}).status_code == 201
        hr = client.post("/v1/groups", headers=h, json={"name": "hr"}).json()
        r = client.post("/v1/kbs/kb/documents", headers=h, data={"groups": "hr"},
                        files=[("files", ("bonus-secret.md", SECRET.encode(), "text/markdown"))])
        assert r.status_code == 202, r.text
        secret = wait_job(client, h, r.json()["id"])["files"][0]["document_id"]
        r = client.post("/v1/kbs/kb/documents", headers=h,
                        files=[("files", ("leave.md", PUBLIC.encode(), "text/markdown"))])
        wait_job(client, h, r.json()["id"])
        graph = client.post("/v1/kbs/kb/graph/build", headers=h, json={}).json()
        wait_job(client, h, graph["id"])
        keys = {name: client.post("/v1/keys", headers=h, json={"name": name, "access": "read"})
                .json() for name in ("inside", "outside")}
        member = client.post(f"/v1/groups/{hr['id']}/members", headers=h,
                             json={"key_id": keys["inside"]["id"]})
        assert member.status_code == 200, member.text
        viewer = join(client, t, "viewer@acme.example", "viewer-password", "viewer")
        client.post(f"/v1/groups/{hr['id']}/members", headers=h,
                    json={"user_id": viewer["user_id"]})
        assert client.post("/v1/assistants", headers=h, json={
            "slug": "bot", "name": "Bot", "config": {"knowledge_bases": ["kb"]}}
        ).status_code == 201
        client.post("/v1/assistants/bot/publish", headers=h, json={"note": "v1"})
        finder = {"nodes": [
            {"id": "start", "type": "start", "inputs": [{"name": "q"}]},
            {"id": "kb", "type": "knowledge", "knowledge_bases": ["kb"], "query": "{{ start.q }}"},
            {"id": "end", "type": "end", "outputs": {"text": "kb.text"}}],
            "edges": [{"source": "start", "target": "kb"}, {"source": "kb", "target": "end"}]}
        r = client.post("/v1/workflows", headers=h,
                        json={"name": "Finder", "slug": "finder", "definition": finder})
        assert r.status_code == 201, r.text
        client.post("/v1/workflows/finder/publish", headers=h, json={"note": "v1"})
        chunk = client.get(f"/v1/kbs/kb/documents/{secret}/chunks", headers=h).json()[0]["id"]
        yield {"client": client, "tenant": t, "settings": settings, "secret": secret,
               "chunk": chunk, "hr": hr["id"], "viewer": viewer,
               "as": {"admin": h,
                      "inside": {"Authorization": f"Bearer {keys['inside']['key']}"},
                      "outside": {"Authorization": f"Bearer {keys['outside']['key']}"}}}


def _leaks(text: str) -> bool:
    return any(word in text for word in LEAKS)


def _check(who: str, text: str) -> None:
    if who == "outside":
        assert not _leaks(text), text[:500]
    else:
        assert "QX7731" in text, text[:500]


WHO = ["inside", "outside", "admin"]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("mode", ["hybrid", "keyword", "vector", "mix"])
def test_search(world: dict[str, Any], who: str, mode: str) -> None:
    r = world["client"].post("/v1/search", headers=world["as"][who],
                             json={"query": QUERY, "knowledge_bases": ["kb"], "mode": mode})
    assert r.status_code == 200, r.text
    _check(who, r.text)
    assert r.json()["hits"], "the public document still answers"


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("mode", ["local", "global"])
def test_graph_search_modes_never_leak(world: dict[str, Any], who: str, mode: str) -> None:
    r = world["client"].post("/v1/search", headers=world["as"][who],
                             json={"query": "Zebracorn", "knowledge_bases": ["kb"], "mode": mode})
    assert r.status_code == 200, r.text
    if who == "outside":
        assert not _leaks(r.text)


@pytest.mark.parametrize("who", WHO)
def test_documents_and_chunks(world: dict[str, Any], who: str) -> None:
    client, h, doc, chunk = world["client"], world["as"][who], world["secret"], world["chunk"]
    listing = client.get("/v1/kbs/kb/documents", headers=h)
    got = client.get(f"/v1/kbs/kb/documents/{doc}", headers=h)
    chunks = client.get(f"/v1/kbs/kb/documents/{doc}/chunks", headers=h)
    one = client.get(f"/v1/kbs/kb/chunks/{chunk}", headers=h)
    if who == "outside":
        assert [d["source"] for d in listing.json()] == ["leave.md"]
        assert listing.headers["X-Total-Count"] == "1"
        assert (got.status_code, chunks.status_code, one.status_code) == (404, 404, 404)
        assert not any(_leaks(r.text) for r in (listing, got, chunks, one))
    else:
        shown = {d["source"]: d["groups"] for d in listing.json()}
        assert shown == {"bonus-secret.md": [world["hr"]], "leave.md": None}
        assert got.json()["groups"] == [world["hr"]]
        _check(who, chunks.text)
        _check(who, one.text)


@pytest.mark.parametrize("who", WHO)
def test_chat_openai_and_apps(world: dict[str, Any], who: str) -> None:
    client, h = world["client"], world["as"][who]
    chat = client.post("/v1/assistants/bot/chat", headers=h, json={"message": QUERY})
    openai = client.post("/v1/chat/completions", headers=h, json={
        "model": "bot", "messages": [{"role": "user", "content": QUERY}]})
    app = client.post("/v1/apps/bot/run", headers=h, json={"query": QUERY})
    flow = client.post("/v1/apps/finder/run", headers=h, json={"inputs": {"q": QUERY}})
    streamed = client.post("/v1/apps/finder/run", headers=h,
                           json={"inputs": {"q": QUERY}, "stream": True})
    for r in (chat, openai, app, flow, streamed):
        assert r.status_code == 200, r.text
    if who == "outside":
        for r in (chat, openai, app, flow, streamed):
            assert not _leaks(r.text), r.text[:500]
    else:
        for r in (chat, openai, app, flow, streamed):
            _check(who, r.text)


@pytest.mark.parametrize("who", WHO)
def test_graph_browser(world: dict[str, Any], who: str) -> None:
    client, h = world["client"], world["as"][who]
    for path in ("/v1/kbs/kb/graph/entities", "/v1/kbs/kb/graph/export?format=json",
                 "/v1/kbs/kb/graph/subgraph"):
        r = client.get(path, headers=h)
        assert r.status_code == (200 if who == "admin" else 403), (path, r.text)
        if who != "admin":
            assert not _leaks(r.text)


@pytest.mark.parametrize("who", ["inside", "outside"])
def test_mcp_tools(world: dict[str, Any], who: str) -> None:
    key = world["as"][who]["Authorization"].removeprefix("Bearer ")
    with Runtime(world["settings"]) as runtime:
        principal = AccountStore(runtime.db).authenticate(key)
        tools = WorkspaceTools(runtime.workspace(principal.workspace_id), principal)
        found = json.dumps(tools.find("search").call({"query": QUERY}), ensure_ascii=False)
        docs = json.dumps(tools.find("list_documents").call({"knowledge_base": "kb"}))
        asked = json.dumps(tools.find("ask").call({"question": QUERY}), ensure_ascii=False)
        app = json.dumps(tools.find("app_bot").call({"question": QUERY}), ensure_ascii=False) \
            if any(t.name == "app_bot" for t in tools.tools()) else ""
        if who == "outside":
            assert not any(_leaks(x) for x in (found, docs, asked, app))
            with pytest.raises(Exception, match="no chunk"):
                tools.find("get_chunk").call({"knowledge_base": "kb",
                                              "chunk_id": world["chunk"]})
        else:
            _check(who, found)
            _check(who, asked)
            assert "bonus-secret" in docs
            _check(who, json.dumps(tools.find("get_chunk").call(
                {"knowledge_base": "kb", "chunk_id": world["chunk"]})))


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_share_link(world: dict[str, Any], who: str) -> None:
    client, h = world["client"], world["as"]["admin"]
    link = client.post("/v1/assistants/bot/share-links", headers=h, json={}).json()
    body: dict[str, Any] = {}
    if who == "member":
        exp = int(time.time()) + 600
        body = {"user": "viewer@acme.example", "exp": exp,
                "sig": identity_signature(link["signing_secret"], "viewer@acme.example", exp)}
    session = client.post(f"/s/{link['token']}/session", json=body)
    assert session.status_code == 200, session.text
    r = client.post(f"/s/{link['token']}/chat", json={"message": QUERY},
                    headers={"Authorization": f"Bearer {session.json()['token']}"})
    assert r.status_code == 200, r.text
    _check("outside" if who == "visitor" else "inside", r.text)


@pytest.mark.parametrize("who", ["outside", "admin"])
def test_eval_runs_read_as_whoever_started_them(world: dict[str, Any], who: str) -> None:
    """An eval run is a background job: it still retrieves only what its starter may read, so
    its stored results never show a restricted passage to a member outside the group."""
    client, h = world["client"], world["tenant"].headers
    if "bonus" not in world:
        r = client.post("/v1/evals/sets", headers=h, json={"name": "bonus", "questions": [
            {"id": "code", "question": QUERY, "expected_sources": ["bonus-secret.md"]},
            {"id": "code-public", "question": QUERY, "expected_sources": ["leave.md"]}]})
        assert r.status_code == 201, r.text
        world["bonus"] = True
    caller = _writer(world) if who == "outside" else h
    run = _run(world, caller, "bonus")
    results = client.get(f"/v1/evals/runs/{run['id']}/results",
                         headers=caller).json()["results"]
    # the question naming the restricted file is not questioned for the outsider at all
    assert [r["id"] for r in results] == (["code-public"] if who == "outside"
                                          else ["code", "code-public"])
    assert run["withheld_questions"] == (1 if who == "outside" else 0)
    found = {r["source"].rsplit("/", 1)[-1] for r in results[0]["retrieved"]}
    text = json.dumps([r["retrieved"] for r in results] + [r["answer"] for r in results])
    if who == "outside":
        assert "bonus-secret.md" not in found and "QX7731" not in text, text
    else:
        assert "bonus-secret.md" in found


def _writer(world: dict[str, Any]) -> dict[str, str]:
    """A read-write key outside ``hr`` (it may start eval runs)."""
    if "writer" not in world:
        made = world["client"].post("/v1/keys", headers=world["tenant"].headers,
                                    json={"name": "writer", "access": "read_write"}).json()
        world["writer"] = {"Authorization": f"Bearer {made['key']}"}
    return dict(world["writer"])


def _run(world: dict[str, Any], headers: dict[str, str], eval_set: str,
         top_k: int = 5) -> dict[str, Any]:
    """Start a run of ``eval_set`` on ``kb`` as ``headers`` and wait until it is done."""
    client = world["client"]
    started = client.post("/v1/evals/runs", headers=headers,
                          json={"eval_set": eval_set, "kb": "kb", "top_k": top_k})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    for _ in range(600):
        run = client.get(f"/v1/evals/runs/{run_id}", headers=headers).json()
        if run["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert run["status"] == "done", run
    return dict(run)


def _admin_run(world: dict[str, Any]) -> int:
    """An eval run the administrator started (so it retrieved the restricted document)."""
    if "admin_run" not in world:
        client, h = world["client"], world["tenant"].headers
        r = client.post("/v1/evals/sets", headers=h, json={"name": "secret-code", "questions": [
            {"id": "code", "question": QUERY, "expected_sources": ["bonus-secret.md"]},
            {"id": "leave", "question": "how many days of paid annual leave",
             "expected_sources": ["leave.md"]}]})
        assert r.status_code == 201, r.text
        started = client.post("/v1/evals/runs", headers=h,
                              json={"eval_set": "secret-code", "kb": "kb", "top_k": 5})
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        for _ in range(600):
            run = client.get(f"/v1/evals/runs/{run_id}", headers=h).json()
            if run["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert run["status"] == "done", run
        world["admin_run"] = run_id
    return int(world["admin_run"])


@pytest.mark.parametrize("who", WHO)
def test_stored_eval_results_withhold_what_the_reader_may_not_read(
        world: dict[str, Any], who: str) -> None:
    """A run an administrator started retrieved the restricted document; a reader outside its
    group reading the run's results (over HTTP, and through the core function every face reads
    with) sees no word of it, only the withheld passages' ids, ranks and scores and unchanged
    metrics; a member and the administrator see it."""
    from zhiku.evals import runs
    from zhiku.permissions.context import reading_as
    from zhiku.permissions.resolution import reader_for

    client, headers = world["client"], world["as"][who]
    run_id = _admin_run(world)
    admin = client.get(f"/v1/evals/runs/{run_id}/results",
                       headers=world["as"]["admin"]).json()["results"]
    r = client.get(f"/v1/evals/runs/{run_id}/results", headers=headers)
    assert r.status_code == 200, r.text
    seen = r.json()["results"]
    # the set itself names the expected file (its author's data); what the run found may not
    _check(who, json.dumps([{k: v for k, v in x.items() if k != "expected_sources"}
                            for x in seen], ensure_ascii=False))
    assert [x["metrics"] for x in seen] == [x["metrics"] for x in admin]
    assert [[(p["chunk_id"], p["score"]) for p in x["retrieved"]] for x in seen] == \
        [[(p["chunk_id"], p["score"]) for p in x["retrieved"]] for x in admin]
    withheld = [p for x in seen for p in x["retrieved"] if p["withheld"]]
    assert bool(withheld) == (who == "outside")
    assert all(p["source"] == "" for p in withheld)
    leave = next(x for x in seen if x["id"] == "leave")
    if not any(p["withheld"] for p in leave["retrieved"]):
        assert leave["answer"] and not leave["withheld"], "a fully readable result is whole"
    key = headers["Authorization"].removeprefix("Bearer ")
    with Runtime(world["settings"]) as runtime:
        principal = AccountStore(runtime.db).authenticate(key)
        zk = runtime.workspace(principal.workspace_id)
        with reading_as(reader_for(runtime.db, principal)):
            core = runs.results(zk.evals, run_id)
        default = runs.results(zk.evals, run_id)  # nobody said who reads: public only
    text = json.dumps([[asdict(p) for p in x.retrieved] + [x.answer, x.citations]
                       for x in core], ensure_ascii=False)
    _check(who, text)
    assert not _leaks(json.dumps([[p.source for p in x.retrieved] + [x.answer, x.citations]
                                  for x in default], ensure_ascii=False))


class _Paraphrase:
    """Writes one question quoting a passage's first words (as a model paraphrasing it may)."""

    def generate(self, passage: str, n: int) -> list[str]:
        return [f"What does this mean: {' '.join(passage.split()[:14])}?"][:n]


EVAL_SETS = ("generated", "from-chat", "secret-code", "cmp-a", "cmp-b")
CORRECTED_SETS = ("corrected", "from-corrected-chat", "from-feedback")
CORRECTED = "The zebracorn bonus pool code is QX7731; ask HR before sharing it."


def _eval_sets(world: dict[str, Any]) -> None:
    """Eval sets pointing at the restricted document: generated from the knowledge base (one
    question per chunk, quoting it), built from conversations of the administrator's (one
    cited the restricted document), written by hand (``secret-code``), and two sets whose
    runs compare (``cmp-a``, ``cmp-b``: the same question, ranked against other grades).
    Then the reply that cited it is corrected (the correction quotes it): into an eval set
    (``corrected``), and sets are built from it through the log (``from-corrected-chat``) and
    from feedback (``from-feedback``); none of them expects a source."""
    if "eval_sets" in world:
        return
    from zhiku.evals import feedback, sets
    from zhiku.evals.generate import generate
    from zhiku.permissions.context import reading_as
    from zhiku.store.reader import EVERYTHING

    client, h = world["client"], world["tenant"].headers
    _admin_run(world)
    with Runtime(world["settings"]) as runtime, reading_as(EVERYTHING):
        zk = runtime.workspace(world["tenant"].workspace_id)
        made = generate(zk, zk.evals, "kb", _Paraphrase(), chunks=10, k=5)
        sets.create_set(zk.evals, "generated", made, origin="generated")
    asked = [client.post("/v1/assistants/bot/chat", headers=h, json={"message": q}).json()
             for q in (QUERY, "how many days of paid annual leave do new employees get")]
    assert "QX7731" in asked[0]["answer"], asked[0]
    r = client.post("/v1/logs/eval-sets", headers=h, json={
        "name": "from-chat", "message_ids": [a["message_id"] for a in asked]})
    assert r.status_code == 201, r.text
    question = "what is the zebracorn bonus pool code QX7731 for"
    for name, expected in (("cmp-a", {"bonus-secret.md": 1}),
                           ("cmp-b", {"leave.md": 3, "bonus-secret.md": 1})):
        r = client.post("/v1/evals/sets", headers=h, json={"name": name, "questions": [
            {"id": "code", "question": question, "expected_sources": expected},
            {"id": "leave", "question": "how many days of paid annual leave",
             "expected_sources": ["leave.md"]}]})
        assert r.status_code == 201, r.text
    replied = asked[0]["message_id"]
    r = client.post(f"/v1/logs/messages/{replied}/correct", headers=h,
                    json={"answer": CORRECTED, "eval_set": "corrected"})
    assert r.status_code == 201, r.text
    r = client.post("/v1/logs/eval-sets", headers=h, json={
        "name": "from-corrected-chat", "message_ids": [replied]})
    assert r.status_code == 201, r.text
    with Runtime(world["settings"]) as runtime, reading_as(EVERYTHING):
        zk = runtime.workspace(world["tenant"].workspace_id)
        fixed = [a for a in feedback.list_answers(zk) if a.message_id == replied]
        assert [a.corrected_answer for a in fixed] == [CORRECTED]
        sets.create_set(zk.evals, "from-feedback", feedback.eval_questions(fixed))
    world["replied"] = replied
    world["eval_sets"] = True


def _eval_runs(world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Runs of the administrator (every set) and of the writer outside ``hr``."""
    _eval_sets(world)
    if "eval_runs" not in world:
        h = world["tenant"].headers
        done = {name: _run(world, h, name) for name in EVAL_SETS if name != "secret-code"}
        done["outsider"] = _run(world, _writer(world), "generated")
        world["eval_runs"] = done
    return dict(world["eval_runs"])


@pytest.mark.parametrize("who", WHO)
def test_eval_set_questions(world: dict[str, Any], who: str) -> None:
    """The outsider lists every question of each set, but those pointing at the restricted
    document only as their id, tags and ``answerable``; the member and the administrator see
    them whole."""
    _eval_sets(world)
    client, h, admin_h = world["client"], world["as"][who], world["as"]["admin"]
    texts, shown = [], 0
    for name in EVAL_SETS + CORRECTED_SETS:
        admin = client.get(f"/v1/evals/sets/{name}/questions", headers=admin_h).json()
        r = client.get(f"/v1/evals/sets/{name}/questions", headers=h)
        assert r.status_code == 200, r.text
        texts.append(r.text)
        seen = r.json()
        assert [(q["id"], q["tags"], q["answerable"]) for q in seen] == \
            [(q["id"], q["tags"], q["answerable"]) for q in admin]
        for mine, whole in zip(seen, admin, strict=True):
            if mine["withheld"]:
                assert who == "outside"
                assert (mine["question"], mine["expected_sources"], mine["expected_chunks"],
                        mine["reference_answers"]) == ("", {}, {}, [])
            else:
                assert mine == whole
                shown += 1
    _check(who, "".join(texts))
    if who == "outside":
        assert 0 < shown < sum(len(json.loads(t)) for t in texts)
    sizes = {s["name"]: s["size"] for s in client.get("/v1/evals/sets", headers=h).json()}
    assert all(sizes[name] == len(json.loads(t))
               for name, t in zip(EVAL_SETS + CORRECTED_SETS, texts, strict=True))


@pytest.mark.parametrize("who", WHO)
def test_questions_from_a_corrected_answer(world: dict[str, Any], who: str) -> None:
    """A question made from a corrected reply that cited the restricted document expects no
    source (the correction is not scored against the reply's citations), yet is withheld from
    the outsider, who also leaves it out of a run; the member and the administrator see it
    whole, the correction as its reference."""
    from zhiku.evals import sets
    from zhiku.evals.types import CITED_SOURCES
    from zhiku.permissions.context import reading_as
    from zhiku.store.reader import EVERYTHING

    _eval_sets(world)
    client, h = world["client"], world["as"][who]
    for name in CORRECTED_SETS:
        r = client.get(f"/v1/evals/sets/{name}/questions", headers=h)
        assert r.status_code == 200, r.text
        [q] = r.json()
        assert q["withheld"] == (who == "outside"), name
        assert q["expected_sources"] == {} and q["expected_chunks"] == {}
        assert q["reference_answers"] == ([] if who == "outside" else [CORRECTED])
        _check(who, r.text)
    with Runtime(world["settings"]) as runtime, reading_as(EVERYTHING):
        zk = runtime.workspace(world["tenant"].workspace_id)
        for name in CORRECTED_SETS:
            [stored] = sets.questions(zk.evals, name)
            assert stored.expected_sources == {}
            assert stored.metadata[CITED_SOURCES] == ["bonus-secret.md"]
    if who == "outside":
        run = _run(world, _writer(world), "from-corrected-chat")
        assert (run["withheld_questions"], run["summary"]["questions"]) == (1, 0)


def test_an_outsiders_run_questions_only_what_it_may_see(world: dict[str, Any]) -> None:
    runs = _eval_runs(world)
    client, writer = world["client"], _writer(world)
    questions = client.get("/v1/evals/sets/generated/questions", headers=writer).json()
    visible = [q["id"] for q in questions if not q["withheld"]]
    run = runs["outsider"]
    assert visible and run["withheld_questions"] == len(questions) - len(visible) > 0
    assert run["summary"]["questions"] == len(visible)
    assert runs["generated"]["withheld_questions"] == 0
    assert runs["generated"]["summary"]["questions"] == len(questions)
    for who in WHO:
        r = client.get(f"/v1/evals/runs/{run['id']}/results?limit=500", headers=world["as"][who])
        assert [x["id"] for x in r.json()["results"]] == visible
        assert not _leaks(r.text)


@pytest.mark.parametrize("who", WHO)
def test_eval_results_and_comparisons(world: dict[str, Any], who: str) -> None:
    """The administrator's runs read by the outsider: a result of a withheld question has
    its metrics, chunk ids and scores and nothing else; a comparison names it by id only.
    The member and the administrator see every result and change whole."""
    runs = _eval_runs(world)
    client, h, admin_h = world["client"], world["as"][who], world["as"]["admin"]
    texts = []
    for name in ("generated", "from-chat", "cmp-a"):
        run_id = runs[name]["id"]
        admin = client.get(f"/v1/evals/runs/{run_id}/results?limit=500",
                           headers=admin_h).json()["results"]
        r = client.get(f"/v1/evals/runs/{run_id}/results?limit=500", headers=h)
        detail = client.get(f"/v1/evals/runs/{run_id}", headers=h)
        assert r.status_code == detail.status_code == 200, r.text
        texts += [r.text, detail.text]
        seen = r.json()["results"]
        assert [(x["id"], x["metrics"]) for x in seen] == [(x["id"], x["metrics"]) for x in admin]
        assert [[(p["chunk_id"], p["score"]) for p in x["retrieved"]] for x in seen] == \
            [[(p["chunk_id"], p["score"]) for p in x["retrieved"]] for x in admin]
        hidden = [x for x in seen if x["withheld"] and not x["question"]]
        assert bool(hidden) == (who == "outside"), name
        for x in hidden:
            assert (x["answer"], x["citations"], x["expected_sources"],
                    x["reference_answers"]) == (None, [], {}, [])
            assert all(p["withheld"] and not p["source"] for p in x["retrieved"])
            assert x["judge"] is None or not x["judge"]["reasons"]
    cmp = client.get(f"/v1/evals/compare?a={runs['cmp-a']['id']}&b={runs['cmp-b']['id']}",
                     headers=h)
    assert cmp.status_code == 200, cmp.text
    texts.append(cmp.text)
    code = next(c for c in cmp.json()["regressed"] + cmp.json()["improved"] if c["id"] == "code")
    if who == "outside":
        assert (code["question"], code["withheld"]) == ("", True)
    else:
        assert "QX7731" in code["question"] and not code["withheld"]
    _check(who, "".join(texts))


def _faq(world: dict[str, Any]) -> dict[str, Any]:
    """The reply that cited the restricted document corrected into an FAQ entry of its own
    knowledge base ``faq``, which assistant ``faqbot`` answers from; the correction's
    response."""
    _eval_sets(world)
    if "faq" not in world:
        client, h = world["client"], world["tenant"].headers
        assert client.post("/v1/kbs", headers=h, json={"name": "faq"}).status_code == 201
        assert client.post("/v1/assistants", headers=h, json={
            "slug": "faqbot", "name": "FAQ", "config": {"knowledge_bases": ["faq"]}}
        ).status_code == 201
        client.post("/v1/assistants/faqbot/publish", headers=h, json={"note": "v1"})
        r = client.post(f"/v1/logs/messages/{world['replied']}/correct", headers=h,
                        json={"answer": CORRECTED, "kb": "faq"})
        assert r.status_code == 201, r.text
        world["faq"] = r.json()
    return dict(world["faq"])


@pytest.mark.parametrize("who", WHO)
def test_an_faq_made_from_a_corrected_answer(world: dict[str, Any], who: str) -> None:
    """The correction of the reply that cited the restricted document restates it: the FAQ
    entry it makes is restricted to the document's group, so the outsider never finds it
    (search in every mode, the assistant, the document list and the document itself, MCP),
    while the member and the administrator do."""
    made = _faq(world)
    assert made["groups"] == [world["hr"]]
    client, h, doc = world["client"], world["as"][who], made["document_id"]
    found = [client.post("/v1/search", headers=h, json={
        "query": QUERY, "knowledge_bases": ["faq"], "mode": mode})
        for mode in ("hybrid", "keyword", "vector")]
    chat = client.post("/v1/assistants/faqbot/chat", headers=h, json={"message": QUERY})
    listing = client.get("/v1/kbs/faq/documents", headers=h)
    got = client.get(f"/v1/kbs/faq/documents/{doc}", headers=h)
    chunks = client.get(f"/v1/kbs/faq/documents/{doc}/chunks", headers=h)
    for r in (*found, chat, listing):
        assert r.status_code == 200, r.text
    key = h["Authorization"].removeprefix("Bearer ")
    with Runtime(world["settings"]) as runtime:
        principal = AccountStore(runtime.db).authenticate(key)
        tools = WorkspaceTools(runtime.workspace(principal.workspace_id), principal)
        mcp = json.dumps(tools.find("search").call({"query": QUERY, "knowledge_bases": ["faq"]}),
                         ensure_ascii=False)
        docs = json.dumps(tools.find("list_documents").call({"knowledge_base": "faq"}))
    if who == "outside":
        assert listing.json() == [] and listing.headers["X-Total-Count"] == "0"
        assert (got.status_code, chunks.status_code) == (404, 404)
        for text in (*[r.text for r in found], chat.text, listing.text, got.text, chunks.text,
                     mcp, docs):
            assert not _leaks(text), text[:500]
        assert all(r.json()["hits"] == [] for r in found)
    else:
        assert [(d["id"], d["groups"]) for d in listing.json()] == [(doc, [world["hr"]])]
        assert got.json()["groups"] == [world["hr"]]
        for text in (*[r.text for r in found], chat.text, chunks.text, mcp):
            _check(who, text)
        assert made["source"] in docs
