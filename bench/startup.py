"""Start-up of the ``zhiku`` console script, measured as whole processes.

Each command runs ``--runs`` times (interleaved, so a noisy neighbour hits all of them alike) on a
small knowledge base (this project's README and docs/*.md). Baseline in the same run:
``python -c pass`` with the same interpreter. The bundled model's load is the floor of a search
with it and is measured on its own: a process that only loads MiniLM and embeds one query.

    .venv/bin/python bench/startup.py --runs 10
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import summary_ms, write_result

ROOT = Path(__file__).resolve().parents[1]
ZHIKU = str(Path(sys.executable).with_name("zhiku"))
MODEL_ONLY = (
    "from zhiku.models.embedders.minilm import MiniLMEmbedder\n"
    "MiniLMEmbedder().embed_batch(['where does Zhiku keep its data'])\n"
)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="zhiku-startup-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    env["ZHIKU_HOME"] = str(home)
    docs = [str(ROOT / "README.md"), *map(str, sorted((ROOT / "docs").glob("*.md")))]
    for kb, embedder in (("small", "minilm"), ("small-hashing", "hashing")):
        subprocess.run([ZHIKU, "kb", "create", kb, "--embedder", embedder], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([ZHIKU, "ingest", "--kb", kb, *docs], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    query = "where does Zhiku keep its data"
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "zhiku --help": [ZHIKU, "--help"],
        "zhiku search --help": [ZHIKU, "search", "--help"],
        "zhiku search (minilm)": [ZHIKU, "search", "--kb", "small", query],
        "zhiku search (hashing)": [ZHIKU, "search", "--kb", "small-hashing", query],
        "model load + one query": [sys.executable, "-c", MODEL_ONLY],
    }
    for cmd in commands.values():  # warm the page cache and Python's bytecode cache
        timed(cmd, env)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd, env))
    base = summary_ms(samples["python -c pass"])["p50_ms"]
    results = {}
    for name, values in samples.items():
        summary = summary_ms(values)
        results[name] = {**summary, "x_python": round(summary["p50_ms"] / base, 1)}
        print(f"{name:<26} p50 {summary['p50_ms']:7.0f} ms  p95 {summary['p95_ms']:7.0f} ms"
              f"  ×{results[name]['x_python']} of python -c pass")
    write_result("startup", {"runs": args.runs, "chunks": "README.md + docs/*.md",
                             "results": results})


if __name__ == "__main__":
    main()
