"""Traditional/Simplified: CMRC 2018 dev paragraphs converted to Traditional (opencc s2t), asked
in Simplified (as written) and in Traditional. Keyword R@1, one document per paragraph, beside a
plain character-bigram BM25 (k1 1.2, b 0.75, bigrams of word characters) over the same paragraphs.

    .venv/bin/python bench/cmrc_traditional.py --articles 300
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import statistics
from collections import Counter

import opencc

from _common import DATA, OUT, write_result
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku


def bigrams(text: str) -> list[str]:
    """Character bigrams inside each run of word characters (a lone character stays itself)."""
    out: list[str] = []
    for run in re.findall(r"[^\W_]+", text.lower()):
        out += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return out


class BigramBM25:
    """BM25 over character bigrams: the baseline a Chinese analyzer has to beat."""

    def __init__(self, docs: dict[str, str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tfs = {k: Counter(bigrams(v)) for k, v in docs.items()}
        self.lens = {k: sum(tf.values()) for k, tf in self.tfs.items()}
        self.avgdl = statistics.fmean(self.lens.values())
        self.postings: dict[str, list[str]] = {}
        for k, tf in self.tfs.items():
            for term in tf:
                self.postings.setdefault(term, []).append(k)
        n = len(docs)
        self.idf = {t: math.log(1 + (n - len(ks) + 0.5) / (len(ks) + 0.5))
                    for t, ks in self.postings.items()}

    def top(self, query: str) -> str | None:
        scores: Counter[str] = Counter()
        for term in set(bigrams(query)):
            for k in self.postings.get(term, ()):
                tf = self.tfs[k][term]
                norm = self.k1 * (1 - self.b + self.b * self.lens[k] / self.avgdl)
                scores[k] += self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
        return scores.most_common(1)[0][0] if scores else None


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
    baseline = BigramBM25(paragraphs)
    for label, convert in (("simplified_questions", str), ("traditional_questions", s2t)):
        r1 = [1.0 if baseline.top(convert(q)) == pid else 0.0 for q, pid in questions]
        result[f"bigram_bm25_{label}_recall@1"] = round(statistics.fmean(r1), 4)
    print(json.dumps(result, indent=2))
    write_result(f"cmrc_traditional{args.tag}", result)
    zk.close()


if __name__ == "__main__":
    main()
