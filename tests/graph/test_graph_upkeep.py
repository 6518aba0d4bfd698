"""Incremental upkeep: delete and change documents, and the graph follows without a rebuild."""

from __future__ import annotations

from zhiku.graph.store import GraphStore
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

DOC_A = ("# Apollo\n\nNeil Armstrong flew with Buzz Aldrin to the Moon. "
         "Armstrong trained in Houston.")
DOC_B = "# Crew\n\nNeil Armstrong and Michael Collins met in Houston."


def edge(zk: Zhiku, a: str, b: str) -> tuple[float, int] | None:
    graph = GraphStore(zk.db)
    kb = zk.kb("kg")
    na, nb = graph.node(kb.id, a), graph.node(kb.id, b)
    for e in graph.edges(kb.id, [na.id]):
        if {e.source_id, e.target_id} == {na.id, nb.id} and e.type == "co_occurs":
            return e.weight, e.evidence_count
    return None


def mentions(zk: Zhiku, name: str) -> int:
    return GraphStore(zk.db).node(zk.kb("kg").id, name).mention_count


def test_delete_and_change_documents_update_the_graph(zk: Zhiku) -> None:
    zk.create_kb("kg", embedder="hashing", graph=True)
    zk.ingest_items("kg", [SourceItem("a.md", data=DOC_A.encode()),
                           SourceItem("b.md", data=DOC_B.encode())])
    assert edge(zk, "Neil Armstrong", "Buzz Aldrin") == (1.0, 1)
    assert edge(zk, "Neil Armstrong", "Houston") == (1.0, 1)  # only b.md: same sentence
    assert mentions(zk, "Houston") == 2

    zk.delete_document("kg", "a.md")  # plain store delete: cascades + triggers do the rest
    assert edge(zk, "Neil Armstrong", "Buzz Aldrin") is None
    assert mentions(zk, "Houston") == 1
    assert mentions(zk, "Buzz Aldrin") == 0
    assert "buzz aldrin" not in {n.key for n in GraphStore(zk.db).all_nodes(
        zk.kb("kg").id)}

    changed = DOC_B.replace("Michael Collins", "Buzz Aldrin")
    zk.ingest_items("kg", [SourceItem("b.md", data=changed.encode())])
    assert edge(zk, "Neil Armstrong", "Buzz Aldrin") == (1.0, 1)
    assert mentions(zk, "Michael Collins") == 0
    stats = zk.graph.stats("kg")
    assert stats["chunks_done"] == 1 and stats["graph_on_ingest"]

    zk.delete_kb("kg")
    conn = zk.store.db.conn  # type: ignore[attr-defined]
    assert conn.execute("SELECT count(*) FROM graph_nodes").fetchone()[0] == 0


def test_merges_are_explained_reversible_and_survive_reingest(zk: Zhiku) -> None:
    zk.create_kb("kg", embedder="hashing", graph=True)
    zk.ingest_items("kg", [SourceItem("a.md", data=b"# IBM\n\nIBM sold the PC unit to Lenovo."),
                           SourceItem("b.md", data=b"International Business Machines is big.")])
    merged = zk.graph.resolve("kg", embeddings=False)
    reasons = {m["reason"] for m in merged}
    assert any("acronym" in r for r in reasons)
    node = zk.graph.show("kg", "IBM")
    assert node["aliases"] or node["name"] == "International Business Machines"
    assert {node["name"], *node["aliases"]} >= {"IBM", "International Business Machines"}
    zk.ingest_items("kg", [SourceItem("b.md", data=b"International Business Machines grew.")])
    assert zk.graph.show("kg", "IBM")["id"] == node["id"]  # merge survives the re-ingest
    merge_id = next(m["merge_id"] for m in merged if "acronym" in m["reason"])
    zk.graph.unmerge("kg", merge_id)
    assert zk.graph.show("kg", "IBM")["id"] != zk.graph.show(
        "kg", "International Business Machines")["id"]
    assert zk.graph.merges("kg")[0]["undone_at"] is not None


def test_graph_off_then_on_then_build(zk: Zhiku) -> None:
    zk.create_kb("kg", embedder="hashing")
    zk.ingest_items("kg", [SourceItem("a.md", data=DOC_A.encode())])
    assert zk.graph.stats("kg")["nodes"] == 0
    zk.graph.set_graph("kg", True)
    report = zk.graph.build("kg")
    assert report.chunks == 1 and zk.graph.stats("kg")["nodes"] > 3
    assert zk.graph.build("kg").chunks == 0  # nothing left to do
