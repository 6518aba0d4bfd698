"""The FAQ document a correction makes is read only by those who may read every restricted
document the corrected reply cited (the intersection of their groups; none shared:
administrators only), or by the groups the admin names; through the core and the HTTP API, on
both backends."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from api_helpers import api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.answer.types import Citation
from zhiku.api.app import create_app
from zhiku.core.errors import InvalidInput, NotFound
from zhiku.permissions.context import reading_as
from zhiku.runtime import Runtime
from zhiku.service import Zhiku
from zhiku.store.reader import EVERYTHING, PUBLIC, Reader

FILES = {  # name: (groups, text)
    "a.txt": (["hr", "finance"], "alpha payroll bands are reviewed each quarter"),
    "b.txt": (["finance", "board"], "beta merger talks start in spring"),
    "c.txt": (["hr"], "gamma bonus pool code is QX7731"),
    "open.txt": (None, "the canteen opens at eight"),
}
ANSWER = "The bonus pool code is QX7731 and the bands are reviewed quarterly."


def _corpus(zk: Zhiku, tmp_path: Path) -> dict[str, Any]:
    """The knowledge bases ``kb`` (the four files) and ``faq``, the groups; ids by name."""
    zk.create_kb("kb", embedder="hashing")
    zk.create_kb("faq", embedder="hashing")
    groups = {g: zk.permissions.create_group(g).id for g in ("hr", "finance", "board")}
    with reading_as(EVERYTHING):
        for name, (restrict, text) in FILES.items():
            folder = tmp_path / name.split(".")[0]
            folder.mkdir()
            (folder / name).write_text(text)
            zk.ingest("kb", [folder / name], groups=restrict)
    docs = {Path(d.source).name: d for d in zk.store.list_documents(zk.kb("kb").id)}
    return {"groups": groups, "docs": docs,
            "chunks": {n: zk.store.list_chunks(d.id)[0].id for n, d in docs.items()}}


def _cite(corpus: dict[str, Any], name: str, n: int = 1, **changes: Any) -> dict[str, Any]:
    doc = corpus["docs"][name]
    cite = Citation(n=n, source=doc.source, document_id=doc.id,
                    chunk_id=corpus["chunks"][name], title=None, location="", page=None,
                    heading_path=[], score=1.0, text=FILES[name][1])
    return {**asdict(cite), **changes}


def _reply(zk: Zhiku, *citations: dict[str, Any]) -> int:
    """A logged reply citing ``citations``; its message id."""
    conv = zk.llm.conversations.create(None)
    _, reply = zk.llm.conversations.save_turn(conv, "what is the bonus pool code", "QX7731 [1]",
                                              citations=list(citations))
    return reply


def _readers(zk: Zhiku, doc_id: int, corpus: dict[str, Any]) -> set[str]:
    """Who reads the document: each group's members, the public, administrators."""
    readers = {name: Reader.of([gid]) for name, gid in corpus["groups"].items()}
    readers.update(public=PUBLIC, admin=EVERYTHING)
    return {name for name, r in readers.items()
            if doc_id in zk.store.readable_documents([doc_id], r)}


@pytest.mark.parametrize(("cited", "groups", "readers"), [
    (["c.txt"], ["hr"], {"hr", "admin"}),
    (["a.txt", "b.txt", "open.txt"], ["finance"], {"finance", "admin"}),
    (["a.txt", "c.txt"], ["hr"], {"hr", "admin"}),
    (["b.txt", "c.txt"], [], {"admin"}),
    (["open.txt"], None, {"hr", "finance", "board", "public", "admin"}),
    ([], None, {"hr", "finance", "board", "public", "admin"}),
])
def test_the_faq_inherits_what_every_cited_restricted_document_shares(
        zk: Zhiku, tmp_path: Path, cited: list[str], groups: list[str] | None,
        readers: set[str]) -> None:
    corpus = _corpus(zk, tmp_path)
    reply = _reply(zk, *[_cite(corpus, name, n) for n, name in enumerate(cited, start=1)])
    made = zk.correct_reply(reply, ANSWER, kb="faq")
    ids = None if groups is None else sorted(corpus["groups"][g] for g in groups)
    assert made.groups == ids
    assert zk.permissions.groups_of(zk.store.get_document(made.document_id or 0)) == ids
    assert _readers(zk, made.document_id or 0, corpus) == readers
    entries = [e for e in zk.audit_entries().entries if e.action == "document.groups"]
    if ids is None:
        assert not entries
    else:
        [entry] = entries
        assert (entry.target_id, entry.detail["groups"], entry.detail["correction"],
                entry.detail["inherited"]) == (str(made.document_id), ids, reply, True)


def test_cited_documents_are_found_by_the_most_exact_identifier(
        zk: Zhiku, tmp_path: Path) -> None:
    """A stale document id falls back to the chunk's document, then to the source; a cited
    document that no longer exists leaves the FAQ to administrators."""
    corpus = _corpus(zk, tmp_path)
    hr = corpus["groups"]["hr"]
    other = corpus["docs"]["open.txt"].id
    by_chunk = _cite(corpus, "c.txt", document_id=other)  # the id names another document
    assert zk.correct_reply(_reply(zk, by_chunk), ANSWER, kb="faq").groups == [hr]
    by_source = _cite(corpus, "c.txt", document_id=None, chunk_id=None)
    assert zk.correct_reply(_reply(zk, by_source), ANSWER, kb="faq").groups == [hr]
    # an unrestricted document cited by a restricted one's id is not the restricted one
    wrong = _cite(corpus, "open.txt", document_id=corpus["docs"]["c.txt"].id, chunk_id=None)
    assert zk.correct_reply(_reply(zk, wrong), ANSWER, kb="faq").groups is None
    gone = _reply(zk, _cite(corpus, "open.txt"))
    with reading_as(EVERYTHING):
        zk.delete_document("kb", other)
    assert zk.correct_reply(gone, ANSWER, kb="faq").groups == []


def test_explicit_groups_override_the_inherited_ones(zk: Zhiku, tmp_path: Path) -> None:
    corpus = _corpus(zk, tmp_path)
    ids = corpus["groups"]
    reply = _reply(zk, _cite(corpus, "c.txt"))
    made = zk.correct_reply(reply, ANSWER, kb="faq", groups=["board", ids["finance"]])
    assert made.groups == sorted([ids["board"], ids["finance"]])
    assert _readers(zk, made.document_id or 0, corpus) == {"board", "finance", "admin"}
    [entry] = [e for e in zk.audit_entries().entries if e.action == "document.groups"]
    assert entry.detail["inherited"] is False
    # the same text again, to administrators only: the document's readers change
    again = zk.correct_reply(reply, ANSWER, kb="faq", groups=[])
    assert (again.document_id, again.groups) == (made.document_id, [])
    assert _readers(zk, made.document_id or 0, corpus) == {"admin"}
    # inheriting again restricts it to what the cited document allows
    assert zk.correct_reply(reply, ANSWER + " Ask HR.", kb="faq").groups == [ids["hr"]]
    fresh = _reply(zk, _cite(corpus, "c.txt"))
    with pytest.raises(NotFound, match="nope"):
        zk.correct_reply(fresh, ANSWER, kb="faq", groups=["hr", "nope"])
    with pytest.raises(InvalidInput, match="knowledge base"):
        zk.correct_reply(fresh, ANSWER, eval_set="fixes", groups=["hr"])
    sources = {d.source for d in zk.store.list_documents(zk.kb("faq").id)}
    assert f"corrections/message-{fresh}.csv" not in sources, "nothing written"


def test_correct_over_http(zhiku_home: Path, tmp_path: Path) -> None:
    """The HTTP API: the inherited intersection, explicit groups (names or ids, an empty list:
    administrators only), an unknown group refused, the groups in the response and the audit
    log; a member of the inherited group finds the FAQ, others do not."""
    settings = api_settings(zhiku_home)
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        h = t.headers
        for kb in ("kb", "faq"):
            assert client.post("/v1/kbs", headers=h, json={"name": kb}).status_code == 201
        ids = {g: client.post("/v1/groups", headers=h, json={"name": g}).json()["id"]
               for g in ("hr", "finance", "board")}
        for name, (restrict, text) in FILES.items():
            data = {"groups": ",".join(restrict)} if restrict is not None else {}
            r = client.post("/v1/kbs/kb/documents", headers=h, data=data,
                            files=[("files", (name, text.encode(), "text/plain"))])
            assert r.status_code == 202, r.text
            wait_job(client, h, r.json()["id"])
        keys = {}
        for g in ("hr", "board"):
            key = client.post("/v1/keys", headers=h, json={"name": g, "access": "read"}).json()
            client.post(f"/v1/groups/{ids[g]}/members", headers=h, json={"key_id": key["id"]})
            keys[g] = {"Authorization": f"Bearer {key['key']}"}
        with Runtime(settings) as runtime:
            zk = runtime.workspace(t.workspace_id)
            with reading_as(EVERYTHING):
                docs = {Path(d.source).name: d for d in zk.store.list_documents(zk.kb("kb").id)}
                corpus = {"docs": docs, "chunks": {n: zk.store.list_chunks(d.id)[0].id
                                                   for n, d in docs.items()}}
            both = _reply(zk, _cite(corpus, "a.txt"), _cite(corpus, "c.txt", 2))
            mixed = _reply(zk, _cite(corpus, "b.txt"), _cite(corpus, "c.txt", 2))

        def correct(mid: int, **body: Any) -> Any:
            return client.post(f"/v1/logs/messages/{mid}/correct", headers=h,
                               json={"answer": ANSWER, "kb": "faq", **body})

        made = correct(both)
        assert made.status_code == 201, made.text
        assert made.json()["groups"] == [ids["hr"]]
        doc = made.json()["document_id"]
        listed = client.get(f"/v1/kbs/faq/documents/{doc}", headers=h).json()
        assert listed["groups"] == [ids["hr"]]
        for who, finds in (("hr", True), ("board", False)):
            r = client.post("/v1/search", headers=keys[who],
                            json={"query": "bonus pool code", "knowledge_bases": ["faq"]})
            assert r.status_code == 200, r.text
            assert ("QX7731" in r.text) == finds, (who, r.text)
            got = client.get(f"/v1/kbs/faq/documents/{doc}", headers=keys[who])
            assert got.status_code == (200 if finds else 404)
        assert correct(mixed).json()["groups"] == []
        assert correct(mixed, groups=["board", ids["hr"]]).json()["groups"] == \
            sorted([ids["board"], ids["hr"]])
        assert correct(mixed, groups=[]).json()["groups"] == []
        unknown = correct(mixed, groups=["nope"])
        assert unknown.status_code == 404 and "nope" in unknown.text
        assert correct(mixed, groups=None).json()["groups"] == []
        no_kb = client.post(f"/v1/logs/messages/{mixed}/correct", headers=h,
                            json={"answer": ANSWER, "eval_set": "fixes", "groups": ["hr"]})
        assert no_kb.status_code == 400, no_kb.text
        audit = client.get("/v1/audit?action=document.groups", headers=h)
        assert audit.status_code == 200, audit.text
        details = [e["detail"] for e in audit.json()["entries"]]
        assert {"kb": "faq", "groups": [ids["hr"]], "correction": both,
                "inherited": True} in details
        assert {"kb": "faq", "groups": sorted([ids["board"], ids["hr"]]), "correction": mixed,
                "inherited": False} in details
