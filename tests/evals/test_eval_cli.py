"""The ``zhiku eval``, ``zhiku feedback`` and ``zhiku export`` commands, end to end in-process."""

from __future__ import annotations

import importlib.util
import json
import statistics
from pathlib import Path
from types import ModuleType

from evalsdata import SCIFACT
from typer.testing import CliRunner

from zhiku.cli.main import create_app
from zhiku.core.settings import Settings
from zhiku.evals.importers import beir
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

ROOT = Path(__file__).resolve().parents[2]


def _bench_common() -> ModuleType:
    """bench/_common.py: the core benchmarks' own SciFact formatting and nDCG."""
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "bench" / "_common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(create_app(), list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_eval_beir_matches_the_core_benchmark_procedure(
    runner: CliRunner, beir_slice: Path, zhiku_home: Path
) -> None:
    out = json.loads(_invoke(runner, "eval", "beir", str(beir_slice), "--embedder", "hashing",
                             "--mode", "hybrid", "--mode", "keyword", "--json"))
    assert out["documents"] == sum(1 for _ in beir.corpus(beir_slice))
    assert out["failed"] == 0 and not out["kept"]
    ours = {m: r["summary"]["metrics"]["ndcg@10"] for m, r in out["runs"].items()}
    # The same slice through bench/scifact.py's recipe: its markdown, its KB settings, its
    # search call, its nDCG.
    common = _bench_common()
    assert all(common.scifact_markdown(e) == beir.markdown(e) for e in beir.corpus(beir_slice))
    queries, qrels = beir.queries(beir_slice), beir.qrels(beir_slice)
    with Zhiku(Settings(home=zhiku_home)) as zk:
        assert zk.list_kbs() == []  # the scratch knowledge base is gone
        zk.create_kb("scifact", embedder="hashing", chunk_tokens=8192, chunk_overlap=0)
        zk.ingest_items("scifact", (SourceItem(f"{e['_id']}.md", data=common.scifact_markdown(e))
                                    for e in beir.corpus(beir_slice)))
        for mode in ("hybrid", "keyword"):
            scores = [common.ndcg_at_k([h.source.removesuffix(".md") for h in zk.search(
                "scifact", queries[qid], top_k=10, mode=mode)], rel) for qid, rel in qrels.items()]
            assert ours[mode] == statistics.fmean(scores)  # bench: fmean, unrounded
    assert SCIFACT.exists()


def test_eval_cli_flow(runner: CliRunner, beir_slice: Path, tmp_path: Path) -> None:
    app = create_app()
    _invoke(runner, "eval", "beir", str(beir_slice), "--embedder", "hashing", "--keep")
    kb = json.loads(_invoke(runner, "kb", "list", "--json"))
    name = kb[0]["name"] if isinstance(kb, list) else kb["knowledge_bases"][0]["name"]
    set_file = tmp_path / "mine.jsonl"
    set_file.write_text(json.dumps({"id": "a", "question": "vitamin D deficiency",
                                    "expected_sources": ["nonexistent"]}) + "\n",
                        encoding="utf-8")
    assert "imported 1 questions into 'mine'" in _invoke(runner, "eval", "import", str(set_file))
    listed = json.loads(_invoke(runner, "eval", "list", "--json"))
    assert {s["name"] for s in listed["sets"]} == {"beir-scifact-slice-test", "mine"}
    run1 = json.loads(_invoke(runner, "eval", "run", "--kb", name, "--set",
                              "beir-scifact-slice-test", "--no-answers", "--json"))
    gate = runner.invoke(app, ["eval", "run", "--kb", name, "--set", "beir-scifact-slice-test",
                               "--mode", "keyword", "--fail-under", "ndcg@10=1.01"])
    assert gate.exit_code == 1 and "below" in gate.output
    ok = runner.invoke(app, ["eval", "run", "--kb", name, "--set", "mine",
                             "--fail-under", "refusal=0"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["eval", "run", "--app", "helpdesk", "--set", "mine"])
    assert bad.exit_code == 2 and "helpdesk" in bad.output
    cmp = json.loads(_invoke(runner, "eval", "compare", str(run1["id"]), str(run1["id"] + 1),
                             "--json", "--report", str(tmp_path / "rep")))
    assert cmp["key_metric"] == "ndcg@10" and Path(cmp["report"]).exists()
    assert any(d["metric"] == "ndcg@10" for d in cmp["deltas"])
    path = _invoke(runner, "eval", "report", str(run1["id"]), "--out", str(tmp_path / "r"))
    assert Path(path.strip()).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_feedback_and_export_cli(runner: CliRunner, tmp_path: Path) -> None:
    doc = tmp_path / "handbook.md"
    doc.write_text("# Leave\n\nNew employees get 15 days of annual leave. Mail hr@example.com.\n",
                   encoding="utf-8")
    _invoke(runner, "kb", "create", "hb", "--embedder", "hashing")
    _invoke(runner, "ingest", "--kb", "hb", str(doc))
    asked = json.loads(_invoke(runner, "feedback", "ask", "--kb", "hb", "--json",
                               "How many days of annual leave do new employees get?"))
    aid = str(asked["answer_id"])
    assert not asked["refused"]
    _invoke(runner, "feedback", "add", aid, "--down", "--correct", "15 days.", "--tag", "hr")
    listed = json.loads(_invoke(runner, "feedback", "list", "--kb", "hb", "--rating", "down",
                                "--json"))
    assert [a["id"] for a in listed] == [asked["answer_id"]]
    _invoke(runner, "export", "sft", str(tmp_path / "sft.jsonl"), "--kb", "hb", "--tag", "hr")
    _invoke(runner, "export", "dpo", str(tmp_path / "dpo.jsonl"), "--since", "2000-01-01")
    sft = [json.loads(x) for x in (tmp_path / "sft.jsonl").read_text().splitlines()]
    dpo = [json.loads(x) for x in (tmp_path / "dpo.jsonl").read_text().splitlines()]
    assert sft[0]["messages"][-1] == {"role": "assistant", "content": "15 days."}
    assert "[EMAIL]" in sft[0]["messages"][1]["content"]
    assert dpo[0]["preferred_output"][0]["content"] == "15 days."
    _invoke(runner, "feedback", "to-set", "fb")
    _invoke(runner, "export", "evalset", "fb", str(tmp_path / "fb.jsonl"))
    back = json.loads((tmp_path / "fb.jsonl").read_text())
    assert back["reference_answers"] == ["15 days."] and back["tags"] == ["hr"]
    none = runner.invoke(create_app(), ["export", "sft", str(tmp_path / "x.jsonl"), "--until",
                                        "2000-01-01"])
    assert none.exit_code == 0 and "wrote 0 records" in none.output
