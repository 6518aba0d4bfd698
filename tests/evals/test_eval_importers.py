"""Every import format, on real files from ../shared/data or files generated here."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from evalsdata import CMRC_TRIAL, SCIFACT, need

from zhiku.core.errors import InvalidInput
from zhiku.evals import importers
from zhiku.evals.importers import beir, squad


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    rows = [
        {"id": "q1", "question": "年假有几天？", "expected_sources": ["handbook.md"],
         "reference_answers": ["15天"], "tags": ["hr"]},
        {"query": "Graded?", "expected_sources": {"a.md": 2, "b.md": 1}, "answer": "yes",
         "expected_chunks": [3, 4], "answerable": "false"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n",
                    encoding="utf-8")
    qs = importers.load(path)
    assert [q.ext_id for q in qs] == ["q1", ""]
    assert qs[0].question == "年假有几天？" and qs[0].expected_sources == {"handbook.md": 1}
    assert qs[0].reference_answers == ["15天"] and qs[0].tags == ["hr"] and qs[0].answerable
    assert qs[1].expected_sources == {"a.md": 2, "b.md": 1}
    assert qs[1].expected_chunks == {3: 1, 4: 1}
    assert qs[1].reference_answers == ["yes"] and not qs[1].answerable


def test_jsonl_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok"}\n{not json\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=":2:"):
        importers.load(bad)
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="no 'question'"):
        importers.load(bad)


def test_csv_and_tsv(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "question", "expected_sources", "reference_answers", "tags",
                    "answerable"])
        w.writerow(["1", "报销需要哪些材料, 流程如何？", "a.md|b.md", "发票|审批单", "hr|finance",
                    ""])
        w.writerow(["2", "What is not in the data?", "", "", "", "no"])
    qs = importers.load(path)
    assert qs[0].question == "报销需要哪些材料, 流程如何？"
    assert qs[0].expected_sources == {"a.md": 1, "b.md": 1}
    assert qs[0].reference_answers == ["发票", "审批单"] and qs[0].tags == ["hr", "finance"]
    assert not qs[1].answerable and qs[1].expected_sources == {}
    tsv = tmp_path / "set.tsv"
    tsv.write_text("question\texpected_chunks\nWhere?\t7|8\n", encoding="utf-8")
    assert importers.load(tsv)[0].expected_chunks == {7: 1, 8: 1}
    nohead = tmp_path / "x.csv"
    nohead.write_text("q,a\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="question"):
        importers.load(nohead)


def test_beir_real_scifact_folder_read_only() -> None:
    need(SCIFACT)
    qs = importers.load(SCIFACT)  # a folder is detected as BEIR; the test split by default
    assert len(qs) == 300
    assert sum(len(q.expected_sources) for q in qs) == 339
    first = qs[0]
    assert first.ext_id == "1" and first.expected_sources == {"31715818": 1}
    assert first.question == "0-dimensional biomaterials show inductive properties."
    assert len(beir.load(SCIFACT, "train")) == 809
    entry = next(beir.corpus(SCIFACT))
    assert entry["_id"] == "4983"
    assert beir.markdown(entry).decode().startswith("# Microstructural development")


def test_beir_slice(beir_slice: Path) -> None:
    qs = importers.load(beir_slice, "beir")
    assert len(qs) == 12
    ids = {e["_id"] for e in beir.corpus(beir_slice)}
    assert all(set(q.expected_sources) <= ids for q in qs)


def test_squad_cmrc_trial() -> None:
    need(CMRC_TRIAL)
    qs = importers.load(CMRC_TRIAL)
    assert len(qs) == 1002
    q = qs[0]
    assert q.ext_id == "TRIAL_800_QUERY_0" and q.question == "生命数耗完即算为什么？"
    assert q.reference_answers == ["踢爆"] and q.expected_sources == {"TRIAL_800": 1}
    pid, context, _ = next(squad.paragraphs(CMRC_TRIAL))
    assert pid == "TRIAL_800" and "踢爆" in context


def test_squad_v2_unanswerable(tmp_path: Path) -> None:
    path = tmp_path / "v2.json"
    path.write_text(json.dumps({"version": "v2.0", "data": [{"title": "T", "paragraphs": [{
        "context": "Paris is in France.", "qas": [
            {"id": "a", "question": "Where is Paris?", "answers": [{"text": "France"}]},
            {"id": "b", "question": "Where is Atlantis?", "answers": [], "is_impossible": True},
        ]}]}]}), encoding="utf-8")
    a, b = importers.load(path)
    assert a.expected_sources == {"T-0": 1} and a.answerable
    assert not b.answerable and b.expected_sources == {} and b.reference_answers == []


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(InvalidInput, match="format"):
        importers.load(path)
    with pytest.raises(InvalidInput, match="unknown"):
        importers.load(path, "xml")
