"""Data helpers of the evaluation tests: shared data paths and a small real SciFact BEIR slice."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
SCIFACT = SHARED / "scifact"
CMRC_TRIAL = SHARED / "cmrc2018" / "cmrc2018_trial.json"


def need(path: Path) -> None:
    """Skip when a shared data set is missing."""
    if not path.exists():
        pytest.skip(f"shared data set missing: {path}")


def make_beir_slice(out: Path, queries: int = 12, extra_docs: int = 60) -> Path:
    """Copy the first ``queries`` SciFact test queries, their relevant abstracts and
    ``extra_docs`` other abstracts into a BEIR folder under ``out``."""
    need(SCIFACT)
    qrels: dict[str, dict[str, int]] = {}
    lines = (SCIFACT / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        q, c, s = line.split("\t")
        qrels.setdefault(q, {})[c] = int(s)
    qids = list(qrels)[:queries]
    needed = {c for q in qids for c in qrels[q]}
    docs: list[str] = []
    extra = 0
    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            cid = json.loads(line)["_id"]
            if cid in needed:
                docs.append(line)
            elif extra < extra_docs:
                docs.append(line)
                extra += 1
    (out / "qrels").mkdir(parents=True)
    with gzip.open(out / "corpus.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(docs)
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as src, \
            (out / "queries.jsonl").open("w", encoding="utf-8") as dst:
        dst.writelines(line for line in src if json.loads(line)["_id"] in qids)
    (out / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n"
        + "".join(f"{q}\t{c}\t{s}\n" for q in qids for c, s in qrels[q].items()),
        encoding="utf-8")
    return out
