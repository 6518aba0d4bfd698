"""Graph modes return cited chunks (Hits) over real HotpotQA paragraphs; export; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from zhiku.cli.main import create_app
from zhiku.graph.retrieve import keep_longest, query_keys
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku


def test_query_keys_prefer_the_longest_entity() -> None:
    keys = query_keys("Which film did the Kiss and Tell star appear in?")
    assert "kiss and tell" in keys
    assert keep_longest(["kiss and tell", "kiss", "tell", "film"]) == ["kiss and tell", "film"]


def test_local_global_mix_return_chunks(zk: Zhiku, hotpot_rows: list[dict],
                                        hotpot_kb: dict) -> None:
    assert zk.graph.communities("hp") > 0
    row = hotpot_rows[0]
    gold = {hotpot_kb[(c["title"], c["paragraph_text"])] for c in row["contexts"]
            if c["is_supporting"]}
    for mode in ("local", "global", "mix"):
        hits = zk.search("hp", row["question_text"], mode=mode, top_k=10)
        assert hits, mode
        assert all(h.chunk_id and h.source.endswith(".md") and h.text for h in hits)
        if mode != "global":
            assert gold & {h.source for h in hits}, mode
    mix = zk.search("hp", row["question_text"], mode="mix", top_k=10)
    assert gold <= {h.source for h in mix}  # both hops: the film and Shirley Temple
    assert any(h.scores.get("graph") for h in mix)
    assert zk.search("hp", row["question_text"], mode="local",
                     filters={"sources": ["nope.md"]}) == []


def test_export_formats_load_back(zk: Zhiku, hotpot_kb: dict, tmp_path: Path) -> None:
    stats = zk.graph.stats("hp")
    (graphml,) = zk.graph.export("hp", "graphml", tmp_path / "g.graphml")
    g = nx.read_graphml(graphml)
    assert g.number_of_nodes() == stats["nodes"]
    names = {d["name"] for _, d in g.nodes(data=True)}
    assert "Shirley Temple" in names
    (js,) = zk.graph.export("hp", "json", tmp_path / "g.json")
    data = json.loads(js.read_text(encoding="utf-8"))
    assert len(data["nodes"]) == stats["nodes"] and data["edges"]
    nodes_csv, edges_csv = zk.graph.export("hp", "csv", tmp_path / "g.csv")
    assert len(nodes_csv.read_text(encoding="utf-8").splitlines()) == stats["nodes"] + 1
    assert edges_csv.read_text(encoding="utf-8").startswith("source,target,type,weight")


def test_cli(tmp_path: Path, hotpot_rows: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    app = create_app()
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, c in enumerate(hotpot_rows[0]["contexts"]):
        (docs / f"{i}.md").write_text(f"# {c['title']}\n\n{c['paragraph_text']}\n", "utf-8")

    def ok(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    ok("kb", "create", "hp", "--embedder", "hashing", "--graph")
    ok("ingest", "--kb", "hp", str(docs))
    assert json.loads(ok("graph", "stats", "--kb", "hp", "--json"))["nodes"] > 10
    assert "Shirley Temple" in ok("graph", "show", "Shirley Temple", "--kb", "hp")
    assert "→" in ok("graph", "path", "Shirley Temple", "Kiss and Tell", "--kb", "hp")
    ok("graph", "build", "--kb", "hp")
    out = tmp_path / "hp.graphml"
    ok("graph", "export", "--kb", "hp", "--format", "graphml", "--out", str(out))
    assert nx.read_graphml(out).number_of_nodes() > 10
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": "q1", "text": hotpot_rows[0]["question_text"]}) + "\n")
    line = ok("search", "--kb", "hp", "--mode", "mix", "--json", "--queries", str(queries))
    assert json.loads(line)["hits"][0]["chunk_id"]
    assert runner.invoke(app, ["search", "--kb", "hp", "--mode", "bogus", "x"]).exit_code == 2
    ok("kb", "set-graph", "hp", "false")
    assert json.loads(ok("graph", "stats", "--kb", "hp", "--json"))["graph_on_ingest"] is False


def test_graph_modes_show_each_section_once(zk: Zhiku) -> None:
    zk.create_kb("pc", embedder="hashing", graph=True, chunk_tokens=24, chunk_overlap=0,
                 parent_child=True)
    first = " ".join(f"Shirley Temple starred in film number {i} for Fox." for i in range(8))
    second = " ".join(f"Shirley Temple served as ambassador in post {i} abroad." for i in range(8))
    text = f"# Temple\n\n## Films\n\n{first}\n\n## Diplomacy\n\n{second}\n"
    assert not zk.ingest_items("pc", [SourceItem("temple.md", data=text.encode())]).failed
    for mode in ("local", "mix"):
        hits = zk.search("pc", "Which films did Shirley Temple star in?", mode=mode, top_k=5)
        assert {h.text for h in hits} == {first, second}, mode  # whole sections as context
        assert len(hits) == 2, mode  # one hit per section, though many of its chunks match
