"""The fast extractor on real Chinese (CMRC 2018) and English (HotpotQA) text; name resolution."""

from __future__ import annotations

import time

import numpy as np

from zhiku.graph.extract_rules import entity_names, extract
from zhiku.graph.resolve import NameRecord, normalize_name, suggest_merges


def names(text: str, heading: list[str] | None = None) -> dict[str, str]:
    return {m.name: m.type for m in extract(text, heading or []).mentions}


def test_english_entities_and_relations_on_hotpotqa(hotpot_rows: list[dict]) -> None:
    ctx = {c["title"]: c["paragraph_text"] for c in hotpot_rows[0]["contexts"]}
    found = extract(ctx["Shirley Temple"], ["Shirley Temple"])
    got = {m.name: m for m in found.mentions}
    assert got["Shirley Temple"].field == "heading" and got["Shirley Temple"].salience == 1.0
    for name in ("Shirley Temple Black", "Czechoslovakia", "Ghana", "Chief of Protocol"):
        assert name in got, name
    assert "April" not in got and "April 23" not in got  # dates are not entities
    m = got["Czechoslovakia"]
    assert m.start is not None and ctx["Shirley Temple"][m.start:m.end] == "Czechoslovakia"
    pairs = {(r.source, r.target, r.type) for r in found.relations}
    assert ("Ghana", "Czechoslovakia", "co_occurs") in pairs
    assert ("Shirley Temple", "Chief of Protocol", "in_context") in pairs


def test_chinese_entities_on_cmrc(cmrc_passages: list) -> None:
    text = cmrc_passages[0].text
    got = names(text, [cmrc_passages[0].title])
    assert got.get("战国无双3") in ("work", "topic")
    typed = [t for t in got.values() if t in ("person", "place", "organization")]
    assert len(typed) >= 2
    all_types = {t for p in cmrc_passages[:20] for t in names(p.text).values()}
    assert {"person", "place"} <= all_types


def test_patterns_give_typed_relations() -> None:
    found = extract("长城位于中国北方。The Louvre is located in Paris.")
    kinds = {(r.source, r.target, r.type) for r in found.relations}
    assert ("长城", "中国", "located_in") in kinds
    assert ("Louvre", "Paris", "located_in") in kinds


def test_question_entities() -> None:
    q = "What government position was held by the woman who portrayed Corliss Archer?"
    assert "Corliss Archer" in entity_names(q)
    assert "What" not in entity_names(q)


def test_extraction_runs_at_ingestion_speed(cmrc_passages: list, hotpot_rows: list[dict]) -> None:
    texts = [p.text for p in cmrc_passages] + [
        c["paragraph_text"] for r in hotpot_rows for c in r["contexts"]
    ]
    started = time.perf_counter()
    for t in texts:
        extract(t)
    rate = len(texts) / (time.perf_counter() - started)
    assert rate > 100  # chunks/s on a busy 2-core box; the embedder does ~27/s


def test_normalize_name_folds_case_width_script_and_punctuation() -> None:
    assert normalize_name("The Beatles.") == normalize_name("ＴＨＥ ＢＥＡＴＬＥＳ") == "beatles"
    assert normalize_name("臺灣大學") == normalize_name("台湾 大学") == "台湾大学"
    assert normalize_name("CBS's") == "cbs"


def test_suggest_merges_explains_every_merge() -> None:
    records = [
        NameRecord(1, "International Business Machines", "international business machines", 9),
        NameRecord(2, "IBM", "ibm", 3),
        NameRecord(3, "Barack Obama", "barack obama", 10),
        NameRecord(4, "Barak Obama", "barak obama", 1),
        NameRecord(5, "Obama Foundation", "obama foundation", 2),
        NameRecord(6, "Beijing University", "beijing university", 4),
        NameRecord(7, "Peking University", "peking university", 2),
    ]
    vectors = np.eye(7, dtype=np.float32)
    vectors[6] = vectors[5]  # pretend the names embed alike
    found = {(s.node_id, s.into_id): s.reason for s in suggest_merges(records, vectors)}
    assert "acronym" in found[(2, 1)]
    assert "string similarity" in found[(4, 3)]
    assert "embedding similarity" in found[(7, 6)]
    assert not any(5 in pair for pair in found)
