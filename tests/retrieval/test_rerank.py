"""Rerankers: a provider of kind ``rerank`` speaking either ``/rerank`` protocol to a scripted
server on 127.0.0.1, used per call, per knowledge base and per assistant; a failure or a
time-out keeps the fused order (logged; ``Hit.reranked`` is False)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rerank_server import RerankServer
from zhiku.core.errors import InvalidInput
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.models.rerank import RerankClient, RerankFailed, _parse
from zhiku.service import Zhiku

DOCS = {
    "leave.md": "# Leave\n\nNew employees get 10 days of paid annual leave.\n",
    "managers.md": "# Managers\n\nManagers get 15 days of paid annual leave and training.\n",
    "wifi.md": "# Office\n\nThe office wifi password is rotated every month by IT.\n",
    "parking.md": "# Parking\n\nParking permits for the garage are issued by facilities.\n",
}
QUERY = "paid annual leave days"


@pytest.fixture
def server() -> Iterator[RerankServer]:
    s = RerankServer()
    yield s
    s.stop()


@pytest.fixture
def zk(zhiku_home: Path, server: RerankServer) -> Iterator[Zhiku]:
    with Zhiku(Settings(home=zhiku_home, embedder="hashing")) as z:
        z.create_kb("hr")
        report = z.ingest_items("hr", [SourceItem(n, data=t.encode()) for n, t in DOCS.items()])
        assert not report.failed
        z.add_provider("rr", kind="rerank", base_url=server.url, models=["bge-rr"],
                       api_key="sk-rerank-secret", timeout=0.5)
        z.add_provider("tei", kind="rerank", rerank_protocol="tei", base_url=server.url,
                       models=["bge"])
        yield z


def test_both_protocols_reorder_the_fused_candidates(zk: Zhiku, server: RerankServer) -> None:
    fused = zk.search("hr", QUERY, top_k=3)
    assert all(h.reranked is None for h in fused) and "wifi" not in fused[0].text
    for ref in ("rr/bge-rr", "tei/bge"):
        hits = zk.search("hr", QUERY, top_k=3, reranker=ref)
        assert "wifi" in hits[0].text and len(hits) == 3
        assert all(h.reranked for h in hits) and hits[0].scores["rerank"] == 1.0
        assert hits[0].score >= hits[1].score and "fused" in hits[0].scores
    (path1, head1, body1), (path2, head2, body2) = server.requests
    assert path1 == path2 == "/v1/rerank"
    assert body1["model"] == "bge-rr" and body1["query"] == QUERY
    assert body1["top_n"] == len(body1["documents"]) == 4  # every candidate (fewer than N)
    assert head1["authorization"] == "Bearer sk-rerank-secret"  # the stored key, decrypted
    assert "texts" in body2 and "authorization" not in head2


def test_the_key_is_stored_encrypted_and_a_reranker_is_no_chat_model(zk: Zhiku) -> None:
    row = zk.store.db.conn.execute(  # type: ignore[attr-defined]
        "SELECT config, api_key_encrypted FROM providers WHERE name = 'rr'").fetchone()
    assert b"sk-rerank-secret" not in bytes(row[1]) and "sk-rerank" not in row[0]
    assert zk.llm.providers.get("rr").kind == "rerank"
    with pytest.raises(InvalidInput):
        zk.llm.providers.model("rr/bge-rr")
    with pytest.raises(InvalidInput):
        zk.add_provider("bad", kind="rerank", models=["x"])  # no base URL
    sf = zk.add_provider("sf", preset="siliconflow-rerank")
    tei = zk.add_provider("tei-local", preset="tei-rerank")
    assert (sf.kind, sf.rerank_protocol, sf.timeout) == ("rerank", "documents", 10.0)
    assert (tei.kind, tei.rerank_protocol) == ("rerank", "tei")
    assert zk.llm.providers.reranker("sf").url == "https://api.siliconflow.cn/v1/rerank"


@pytest.mark.parametrize("fault", ["status", "timeout", "not-a-reranker"])
def test_a_failing_reranker_keeps_the_fused_order(
    zk: Zhiku, server: RerankServer, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    fused = [h.chunk_id for h in zk.search("hr", QUERY, top_k=3)]
    ref = "rr/bge-rr"
    if fault == "status":
        server.status = 503
    elif fault == "timeout":
        server.delay = 2.0
    else:
        zk.add_provider("chat", base_url=server.url, models=["m"])
        ref = "chat/m"
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, "zhiku.retrieval.rerank"):
        hits = zk.search("hr", QUERY, top_k=3, reranker=ref)
    assert [h.chunk_id for h in hits] == fused and all(h.reranked is False for h in hits)
    assert time.monotonic() - started < 1.8  # the time-out (0.5 s) was honoured
    assert "reranking failed, keeping the fused order" in caplog.text
    words = {"status": "HTTP 503", "timeout": "timed out", "not-a-reranker": "not a reranker"}
    assert words[fault] in caplog.text


def test_per_knowledge_base_and_per_assistant(zk: Zhiku, server: RerankServer) -> None:
    with pytest.raises(InvalidInput):
        zk.create_kb("bad", reranker="tei/bge", rerank_top_n=0)
    zk.create_kb("hr2", reranker="tei/bge", rerank_top_n=2)
    zk.ingest_items("hr2", [SourceItem(n, data=t.encode()) for n, t in DOCS.items()])
    hits = zk.search("hr2", QUERY, top_k=4)
    assert len(server.requests[-1][2]["texts"]) == 2  # only the top 2 are sent
    assert [h.reranked for h in hits] == [True, True, False, False]

    server.favourite = "Managers"
    zk.create_assistant("Bot", knowledge_bases=["hr"],
                        retrieval={"reranker": "rr/bge-rr", "min_relevance": 0.0})
    answer = zk.ask_app("bot", "How many days of paid annual leave?")
    assert answer.hits and answer.hits[0].reranked and "Managers" in answer.hits[0].text
    assert server.requests[-1][2]["model"] == "bge-rr"


def test_graph_mix_reranks_its_hybrid_part(zk: Zhiku, server: RerankServer) -> None:
    zk.create_kb("hr3", reranker="rr/bge-rr", graph=True)
    zk.ingest_items("hr3", [SourceItem(n, data=t.encode()) for n, t in DOCS.items()])
    before = len(server.requests)
    hits = zk.search("hr3", QUERY, mode="mix", top_k=3)
    assert len(server.requests) == before + 1 and server.requests[-1][2]["model"] == "bge-rr"
    assert hits and any(h.reranked and "rerank" in h.scores for h in hits)


def test_client_rejects_an_answer_that_does_not_score_every_text(server: RerankServer) -> None:
    client = RerankClient(server.url.replace("/v1", "/v1/rerank"), "m", timeout=2)
    assert client.url.endswith("/v1/rerank") and client.scores("q", []) == []
    assert client.scores("q", ["wifi", "x"]) == [1.0, 0.1]
    broken = RerankClient("http://127.0.0.1:9", "m", timeout=1)
    with pytest.raises(RerankFailed):
        broken.scores("q", ["a"])
    for bad in ({"output": "nonsense"}, {"results": [{"index": 0, "score": 1}]}, [{"x": 1}]):
        with pytest.raises((ValueError, KeyError, TypeError, IndexError, AttributeError)):
            _parse(bad, 2)
    assert _parse({"output": {"results": [{"index": 0, "relevance_score": 0.5}]}}, 1) == [0.5]


def test_cli_adds_a_reranker_and_a_knowledge_base_that_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: RerankServer
) -> None:
    from typer.testing import CliRunner

    from zhiku.cli.main import create_app

    monkeypatch.setenv("ZHIKU_HOME", str(tmp_path / "cli-home"))
    monkeypatch.setenv("ZHIKU_EMBEDDER", "hashing")
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    runner = CliRunner()
    for args in (["models", "add", "rr", "--base-url", server.url, "--rerank", "tei",
                  "-m", "bge", "--timeout", "3"],
                 ["kb", "create", "hr", "--reranker", "rr/bge"],
                 ["ingest", "--kb", "hr", str(docs)]):
        result = runner.invoke(create_app(), args)
        assert result.exit_code == 0, result.output
    out = runner.invoke(create_app(), ["search", QUERY, "--kb", "hr", "--json", "-k", "2"])
    assert out.exit_code == 0, out.output
    hits = json.loads(out.stdout)["hits"]
    assert "wifi" in hits[0]["text"] and [h["reranked"] for h in hits] == [True, True]
    assert "texts" in server.requests[-1][2]  # the TEI protocol
    listed = json.loads(runner.invoke(create_app(), ["models", "list", "--json"]).stdout)
    assert listed[0]["kind"] == "rerank" and listed[0]["rerank_protocol"] == "tei"
