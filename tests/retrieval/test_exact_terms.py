"""Exact-term precedence: a chunk holding a rare query term verbatim (a code, an identifier)
is never outranked by a chunk only the vector side found, in single and batch search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zhiku.cli.main import create_app
from zhiku.ingest.pipeline import SourceItem
from zhiku.retrieval.fusion import exact_first, fuse
from zhiku.service import Zhiku

KB = "parts"


def code(i: int) -> str:
    return f"uniq{i:04d}x"


def part_file(i: int) -> SourceItem:
    text = (f"Inventory record for part {code(i)}. A steel bracket for the conveyor assembly, "
            f"kept in aisle {i % 9} and checked every quarter by the warehouse team.\n")
    return SourceItem(f"part-{i:04d}.txt", data=text.encode())


def test_rrf_ties_go_to_the_keyword_side() -> None:
    keyword = [(7, 3.2), (8, 1.0)]
    vector = [(3, 0.4), (7, 0.1)]
    # 3 (vector rank 1) and 7 (keyword rank 1) would tie without 7's vector rank; drop that
    tied = fuse([keyword, vector[:1]], [0.5, 0.5], "rrf", 10)
    assert [item for item, _ in tied][:2] == [7, 3]
    assert next(item for item, _ in fuse([keyword, vector], [0.5, 0.5])) == 7


def test_exact_hits_are_never_below_vector_only_hits() -> None:
    fused = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6), (5, 0.5)]
    # 4 holds the rare term; 1 and 3 come from the vector side only; 2 and 5 from both
    assert [i for i, _ in exact_first(fused, [4], {2, 4, 5})] == [2, 4, 1, 3, 5]
    assert exact_first(fused, [], {2}) == fused
    assert exact_first(fused, [9], {2}) == fused  # an exact hit outside the list changes nothing


@pytest.mark.parametrize("embedder", ["hashing-8", "minilm"])
def test_every_code_finds_its_own_file_first(zk: Zhiku, tmp_path: Path, embedder: str,
                                             zhiku_home: Path) -> None:
    count = 400 if embedder.startswith("hashing") else 60  # the real model: a smaller corpus
    zk.create_kb(KB, embedder=embedder)
    report = zk.ingest_items(KB, (part_file(i) for i in range(count)))
    assert not report.failed
    tops = {i: zk.search(KB, code(i), top_k=3)[0].source for i in range(count)}
    wrong = {i: top for i, top in tops.items() if top != f"part-{i:04d}.txt"}
    assert not wrong, f"{len(wrong)} codes ranked another file first: {list(wrong.items())[:3]}"

    queries = tmp_path / "codes.jsonl"
    queries.write_text("".join(json.dumps({"id": i, "text": code(i)}) + "\n"
                               for i in range(count)), encoding="utf-8")
    result = CliRunner().invoke(create_app(), ["search", "--kb", KB, "--top-k", "1", "--json",
                                               "--queries", str(queries)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert len(lines) == count
    batch_wrong = [r["id"] for r in lines
                   if Path(r["hits"][0]["source"]).name != f"part-{r['id']:04d}.txt"]
    assert not batch_wrong, f"batch mode: {len(batch_wrong)} codes ranked another file first"
