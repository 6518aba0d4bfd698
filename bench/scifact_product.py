"""SciFact nDCG@10 through the product path: one text file per abstract (title as first line),
``zhiku kb create`` + ``zhiku ingest`` with default settings, ``zhiku search --queries``
(hybrid, top 10) for the 300 test claims. Compare with bench/scifact.py, which ingests through
the Python API with one chunk per abstract.

    .venv/bin/python bench/scifact_product.py            # build bench/out/scifact-product, search
    .venv/bin/python bench/scifact_product.py --reuse    # search only (ranking changes)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    OUT,
    ROOT,
    ndcg_at_k,
    scifact_corpus,
    scifact_qrels,
    scifact_queries,
    write_result,
)

KB = "scifact"


def zhiku(home: Path, *args: str) -> str:
    """Run the CLI in a child process, as a user would."""
    env = {**os.environ, "ZHIKU_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-c", "from zhiku.cli.main import run; run()", *args]
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    home = OUT / "scifact-product"
    files = OUT / "scifact-files"
    result: dict[str, object] = {}
    if not (args.reuse and (home / "zhiku.db").exists()):
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(files, ignore_errors=True)
        files.mkdir(parents=True)
        for doc in scifact_corpus():
            title = doc["title"].strip().replace("\n", " ")
            (files / f"{doc['_id']}.txt").write_text(f"{title}\n{doc['text'].strip()}\n",
                                                    encoding="utf-8")
        started = time.perf_counter()
        zhiku(home, "kb", "create", KB)
        zhiku(home, "ingest", str(files), "--kb", KB)
        result["build_seconds"] = round(time.perf_counter() - started, 1)
    qrels = scifact_qrels("test")
    queries = scifact_queries()
    qfile = OUT / "scifact-test-queries.jsonl"
    qfile.write_text("".join(json.dumps({"id": q, "text": queries[q]}) + "\n" for q in qrels),
                     encoding="utf-8")
    started = time.perf_counter()
    out = zhiku(home, "search", "--kb", KB, "--top-k", "10", "--json", "--queries", str(qfile))
    result["search_seconds"] = round(time.perf_counter() - started, 1)
    scores = []
    for line in out.strip().splitlines():
        row = json.loads(line)
        ranked = list(dict.fromkeys(Path(h["source"]).stem for h in row["hits"]))
        scores.append(ndcg_at_k(ranked, qrels[str(row["id"])], 10))
    result["queries"] = len(scores)
    result["ndcg@10"] = round(statistics.fmean(scores), 4)
    print(json.dumps(result, indent=2))
    write_result(f"scifact_product{args.tag}", result)


if __name__ == "__main__":
    main()
