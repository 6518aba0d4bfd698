"""Traditional/Simplified: CMRC 2018 dev paragraphs converted to Traditional (opencc s2t), asked
in Simplified (as written) and in Traditional. Keyword R@1, one document per paragraph.

    .venv/bin/python bench/cmrc_traditional.py --articles 300
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics

import opencc

from _common import DATA, OUT, write_result
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    s2t = opencc.OpenCC("s2t").convert
    data = json.loads((DATA / "cmrc2018" / "cmrc2018_dev.json").read_text(encoding="utf-8"))
    paragraphs: dict[str, str] = {}
    questions: list[tuple[str, str]] = []
    for article in data["data"][: args.articles]:
        for p in article["paragraphs"]:
            paragraphs[p["id"]] = s2t(p["context"])
            questions += [(q["question"], p["id"]) for q in p["qas"] if q["question"].strip()]
    home = OUT / f"cmrc-traditional{args.tag}"
    shutil.rmtree(home, ignore_errors=True)
    zk = Zhiku(Settings(home=home))
    zk.create_kb("t", embedder="hashing", chunk_tokens=4096, chunk_overlap=0)
    zk.ingest_items("t", (SourceItem(f"{k}.txt", data=v.encode()) for k, v in paragraphs.items()))
    result: dict[str, object] = {"paragraphs": len(paragraphs), "questions": len(questions)}
    for label, convert in (("simplified_questions", str), ("traditional_questions", s2t)):
        r1 = []
        for question, pid in questions:
            hits = zk.search("t", convert(question), top_k=1, mode="keyword")
            r1.append(1.0 if hits and hits[0].source == f"{pid}.txt" else 0.0)
        result[f"{label}_recall@1"] = round(statistics.fmean(r1), 4)
    print(json.dumps(result, indent=2))
    write_result(f"cmrc_traditional{args.tag}", result)
    zk.close()


if __name__ == "__main__":
    main()
