"""Zhiku, Haystack and LlamaIndex side by side: SciFact hybrid search and Chinese news ingestion.

One command, one run, one table:

    .venv/bin/python bench/peers/run.py                # everything (venvs made on first use)
    .venv/bin/python bench/peers/run.py --news 500     # fewer news articles

1. Inputs, shared by all three (bench/out/peers/inputs): the SciFact abstracts as the text Zhiku
   indexes and embeds for each (title, then abstract), their MiniLM vectors and those of the 300
   test claims, from Zhiku's bundled model. The vectors come from the knowledge base
   bench/scifact.py builds (bench/out/scifact, built here when missing); the claims are embedded
   once, one at a time as a search embeds them. The first N Chinese news articles.
2. Each peer's virtual environment (bench/out/peers/venv-NAME), made with ``python -m venv`` and
   pip at pinned versions, and kept while those versions are installed.
3. Each side in its own process (Zhiku in this environment, in process, no HTTP): SciFact
   ingestion (timed, nothing embedded), every test claim's hybrid search (BM25 + vector, 50
   candidates each, reciprocal-rank fusion, top 10; each query timed alone, query embedding
   excluded: the cached vector is handed over), and the news ingestion with one shared hashing
   embedder (chunks/s).
4. nDCG@10 of all three with one function (the product's own), the table, and
   bench/results/peers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # bench/, for _common and scifact

import _peerlib as lib  # noqa: E402

from _common import (  # noqa: E402
    OUT,
    ROOT,
    ndcg_at_k,
    news_articles,
    scifact_qrels,
    scifact_queries,
    write_result,
)

PEERS: dict[str, dict[str, str]] = {
    "haystack": {"haystack-ai": "2.31.0"},
    "llamaindex": {"llama-index-core": "0.14.25", "llama-index-retrievers-bm25": "0.8.0"},
}
SIDES = ("zhiku", "haystack", "llamaindex")
TARGET_RATIO = 8.0


# -- inputs ---------------------------------------------------------------------------------
def scifact_inputs() -> None:
    """Write the SciFact inputs unless they are there (the cache of MiniLM vectors)."""
    names = ("scifact_docs.jsonl", "scifact_doc_vectors.npy", "scifact_queries.jsonl",
             "scifact_query_vectors.npy")
    if all((lib.INPUTS / n).exists() for n in names):
        return
    import numpy as np

    from zhiku.core.settings import Settings
    from zhiku.service import Zhiku
    from zhiku.text.indexing import index_text

    home = OUT / "scifact"
    if not (home / "zhiku.db").exists():
        import scifact  # the knowledge base bench/scifact.py evaluates, embedded once

        print("embedding SciFact with the bundled MiniLM into bench/out/scifact (once)")
        shutil.rmtree(home, ignore_errors=True)
        with Zhiku(Settings(home=home)) as zk:
            scifact.build(zk)
    lib.INPUTS.mkdir(parents=True, exist_ok=True)
    with Zhiku(Settings(home=home)) as zk:
        kb = zk.kb("scifact")
        embedder = zk.embedder(kb.embedder)
        conn = sqlite3.connect(zk.settings.db_path)
        rows = conn.execute(
            "SELECT c.id, d.source, c.heading_path, c.text FROM chunks c "
            "JOIN documents d ON d.id = c.document_id WHERE c.kb_id = ? ORDER BY d.source",
            (kb.id,)).fetchall()
        conn.close()
        vectors = zk.store.vectors_for([r[0] for r in rows], embedder.model_id)
        docs = [{"id": r[1].removesuffix(".md"), "text": index_text(json.loads(r[2]), r[3])}
                for r in rows]
        queries = scifact_queries()
        test = [{"id": qid, "text": queries[qid]} for qid in scifact_qrels("test")]
        qvecs = np.stack([embedder.embed_batch([q["text"]])[0] for q in test])
        np.save(lib.INPUTS / "scifact_doc_vectors.npy", np.stack([vectors[r[0]] for r in rows]))
        np.save(lib.INPUTS / "scifact_query_vectors.npy", qvecs)
    for name, items in (("scifact_docs.jsonl", docs), ("scifact_queries.jsonl", test)):
        (lib.INPUTS / name).write_text(
            "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items), encoding="utf-8")


def news_inputs(count: int) -> None:
    """Write the first ``count`` news articles unless that many are there."""
    path = lib.INPUTS / "news.jsonl"
    if path.exists() and sum(1 for _ in path.open(encoding="utf-8")) == count:
        return
    lib.INPUTS.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(
        json.dumps({"id": f"{n:06d}", "text": text}, ensure_ascii=False) + "\n"
        for n, text in enumerate(news_articles(count))), encoding="utf-8")


# -- virtual environments -------------------------------------------------------------------
def installed(python: Path, pins: dict[str, str]) -> bool:
    """Whether ``python``'s environment has exactly the pinned versions."""
    probe = ("import importlib.metadata as m, json, sys\n"
             "out = {}\n"
             "for n in sys.argv[1:]:\n"
             "    try: out[n] = m.version(n)\n"
             "    except m.PackageNotFoundError: out[n] = None\n"
             "print(json.dumps(out))")
    try:
        done = subprocess.run([str(python), "-c", probe, *pins], capture_output=True,
                              text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return bool(json.loads(done.stdout) == pins)


def venv(name: str) -> Path:
    """The peer's environment's python, made (venv + pip, pinned) unless already there."""
    pins = PEERS[name]
    home = lib.OUT / f"venv-{name}"
    python = home / "bin" / "python"
    if installed(python, pins):
        return python
    print(f"making {home.relative_to(ROOT)} ({', '.join(f'{k}=={v}' for k, v in pins.items())})")
    shutil.rmtree(home, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *(f"{k}=={v}" for k, v in pins.items())], check=True)
    if not installed(python, pins):
        raise SystemExit(f"{home}: pinned versions did not install")
    return python


# -- sides ----------------------------------------------------------------------------------
def run_side(side: str, python: Path, parts: str) -> dict[str, Any]:
    """Run one side's adapter in its own process and read its result."""
    out = lib.OUT / "results" / f"{side}.json"
    out.unlink(missing_ok=True)
    env = dict(os.environ)
    if side == "zhiku":
        env["PYTHONPATH"] = str(ROOT / "src")
    else:  # nothing of the project's environment leaks into a peer's
        env.pop("PYTHONPATH", None)
        env.pop("VIRTUAL_ENV", None)
    started = time.perf_counter()
    subprocess.run([str(python), str(HERE / f"{side}_adapter.py"), "--out", str(out),
                    "--parts", parts], check=True, env=env, cwd=ROOT)
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    result["process_seconds"] = round(time.perf_counter() - started, 1)
    return result


def ndcg(ranked: list[list[str]]) -> float:
    """Mean nDCG@10 over the test claims, in the order of the inputs."""
    qrels = scifact_qrels("test")
    queries = lib.read_jsonl(lib.INPUTS / "scifact_queries.jsonl")
    scores = [ndcg_at_k(r, qrels[q["id"]]) for q, r in zip(queries, ranked, strict=True)]
    return round(sum(scores) / len(scores), 4)


def table(results: dict[str, dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """The printed table and the verdict on the target."""
    zk = results["zhiku"]["scifact"]["latency"]["p50_ms"]
    lines = ["| | version | nDCG@10 | hybrid p50 ms | p95 ms | p50 ÷ Zhiku p50 | reference p50 ms "
             "| load (1 min) | SciFact ingest s (docs/s) | news chunks | news ingest s | chunks/s "
             "| articles/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for side in SIDES:
        r = results[side]
        sf, nw = r.get("scifact"), r.get("news")
        cells = [side, r["version"]]
        if sf:
            lat = sf["latency"]
            docs_s = sf["ingest"]["documents"] / sf["ingest"]["seconds"]
            cells += [f"{sf['ndcg@10']:.4f}", f"{lat['p50_ms']:.1f}", f"{lat['p95_ms']:.1f}",
                      f"×{lat['p50_ms'] / zk:.1f}", f"{sf['reference']['p50_ms']:.2f}",
                      "–".join(f"{x:.1f}" for x in sf["load_1min"]),
                      f"{sf['ingest']['seconds']:.2f} ({docs_s:,.0f})"]
        else:
            cells += ["–"] * 7
        if nw:
            cells += [f"{nw['chunks']:,}", f"{nw['seconds']:.2f}",
                      f"{nw['chunks'] / nw['seconds']:,.0f}",
                      f"{nw['articles'] / nw['seconds']:,.0f}"]
        else:
            cells += ["–"] * 4
        lines.append("| " + " | ".join(cells) + " |")
    peers = [s for s in SIDES[1:] if "scifact" in results[s]]
    verdict: dict[str, Any] = {"target": f"Zhiku hybrid p50 ≥ {TARGET_RATIO:g}× faster than the "
                                         "fastest peer at equal or better nDCG@10"}
    if peers:
        fastest = min(peers, key=lambda s: results[s]["scifact"]["latency"]["p50_ms"])
        ratio = results[fastest]["scifact"]["latency"]["p50_ms"] / zk
        z_ndcg = results["zhiku"]["scifact"]["ndcg@10"]
        ok = ratio >= TARGET_RATIO and z_ndcg >= results[fastest]["scifact"]["ndcg@10"]
        verdict.update({"fastest_peer": fastest, "ratio_p50": round(ratio, 2),
                        "ndcg_at_least_peer": z_ndcg >= results[fastest]["scifact"]["ndcg@10"],
                        "met": ok})
        lines.append("")
        lines.append(f"fastest peer: {fastest}, its p50 ÷ Zhiku's = ×{ratio:.1f}; nDCG@10 "
                     f"Zhiku {z_ndcg:.4f} vs {results[fastest]['scifact']['ndcg@10']:.4f} → "
                     f"target {'met' if ok else 'NOT met'}")
    return lines, verdict


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--news", type=int, default=2000, help="news articles to ingest (0: none)")
    ap.add_argument("--sides", default=",".join(SIDES), help="comma-separated subset")
    args = ap.parse_args()
    sides = [s for s in SIDES if s in args.sides.split(",")]
    parts = "scifact" + (",news" if args.news else "")
    load_start = os.getloadavg()
    scifact_inputs()
    if args.news:
        news_inputs(args.news)
    pythons = {s: Path(sys.executable) if s == "zhiku" else venv(s) for s in sides}
    results: dict[str, dict[str, Any]] = {}
    for side in sides:
        print(f"running {side} …", flush=True)
        results[side] = run_side(side, pythons[side], parts)
        sf = results[side].get("scifact")
        if sf:
            sf["ndcg@10"] = ndcg(sf.pop("ranked"))
    load_end = os.getloadavg()
    payload: dict[str, Any] = {
        "command": " ".join([".venv/bin/python bench/peers/run.py", *sys.argv[1:]]),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in load_end],
        "news_articles": args.news,
        "sides": results,
    }
    if "zhiku" in results and "scifact" in results["zhiku"]:
        lines, verdict = table(results)
        payload["verdict"] = verdict
        print()
        print("\n".join(lines))
    print(f"\nload average (1/5/15 min): start {payload['load_average_start']}, "
          f"end {payload['load_average_end']}")
    if sides == list(SIDES):
        print("wrote", write_result("peers", payload))


if __name__ == "__main__":
    main()
