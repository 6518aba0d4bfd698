"""Start-up of the ``zhiku`` console script, measured as whole processes.

Each command runs ``--runs`` times (interleaved, so a noisy neighbour hits all of them alike) on a
small knowledge base (this project's README and docs/*.md). Baseline in the same run:
``python -c pass`` with the same interpreter. The bundled model's load is the floor of a search
with it and is measured on its own: a process that only loads MiniLM and embeds one query.

``--baseline-src DIR`` also runs every ``zhiku`` command with another checkout's sources
(``PYTHONPATH=DIR``, e.g. main's ``src`` in a ``git worktree``), interleaved with this one's, and
prints the ratio of this checkout's p50 to the baseline's.

    .venv/bin/python bench/startup.py --runs 10
    .venv/bin/python bench/startup.py --runs 12 --baseline-src /tmp/zhiku-main/src
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import summary_ms, write_result

ROOT = Path(__file__).resolve().parents[1]
ZHIKU = str(Path(sys.executable).with_name("zhiku"))
MODEL_ONLY = (
    "import pathlib\n"
    "from zhiku.models.embedders.minilm import MiniLMEmbedder\n"
    "cache = pathlib.Path.home() / '.cache' / 'zhiku' / 'models'  # the settings' default\n"
    "MiniLMEmbedder(cache_dir=cache).embed_batch(['where does Zhiku keep its data'])\n"
)
MODEL_ONLY_BASE = (
    "from zhiku.models.embedders.minilm import MiniLMEmbedder\n"
    "MiniLMEmbedder().embed_batch(['where does Zhiku keep its data'])\n"
)


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="another checkout's src/ to run the same commands with")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="zhiku-startup-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    env["ZHIKU_HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT / "src")
    docs = [str(ROOT / "README.md"), *map(str, sorted((ROOT / "docs").glob("*.md")))]
    for kb, embedder in (("small", "minilm"), ("small-hashing", "hashing")):
        subprocess.run([ZHIKU, "kb", "create", kb, "--embedder", embedder], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([ZHIKU, "ingest", "--kb", kb, *docs], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    query = "where does Zhiku keep its data"
    zhiku_commands = {
        "zhiku --help": [ZHIKU, "--help"],
        "zhiku search --help": [ZHIKU, "search", "--help"],
        "zhiku search (minilm)": [ZHIKU, "search", "--kb", "small", query],
        "zhiku search (hashing)": [ZHIKU, "search", "--kb", "small-hashing", query],
    }
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([sys.executable, "-c", "pass"], env),
        **{name: (cmd, env) for name, cmd in zhiku_commands.items()},
        "model load + one query": ([sys.executable, "-c", MODEL_ONLY], env),
    }
    if args.baseline_src is not None:
        base_env = {**env, "PYTHONPATH": str(args.baseline_src.resolve())}
        for name, cmd in zhiku_commands.items():
            commands[f"{name} [baseline]"] = (cmd, base_env)
        commands["model load + one query [baseline]"] = (
            [sys.executable, "-c", MODEL_ONLY_BASE], base_env)
    for cmd, cmd_env in commands.values():  # warm the page cache, bytecode and model caches
        timed(cmd, cmd_env)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (cmd, cmd_env) in commands.items():
            wall, used = timed(cmd, cmd_env)
            samples[name].append(wall)
            cpu[name].append(used)
    base = summary_ms(samples["python -c pass"])["p50_ms"]
    results: dict[str, dict[str, float]] = {}
    for name, values in samples.items():
        summary = summary_ms(values)
        cpu_ms = summary_ms(cpu[name])["p50_ms"]
        results[name] = {**summary, "cpu_p50_ms": cpu_ms,
                         "x_python": round(summary["p50_ms"] / base, 1)}
        ratio = ""
        if f"{name} [baseline]" in samples:
            baseline = summary_ms(samples[f"{name} [baseline]"])["p50_ms"]
            baseline_cpu = summary_ms(cpu[f"{name} [baseline]"])["p50_ms"]
            results[name]["x_baseline"] = round(summary["p50_ms"] / baseline, 3)
            results[name]["x_baseline_cpu"] = round(cpu_ms / baseline_cpu, 3)
            ratio = (f"  ×{results[name]['x_baseline']} of baseline"
                     f" (CPU ×{results[name]['x_baseline_cpu']})")
        print(f"{name:<38} p50 {summary['p50_ms']:7.0f} ms  p95 {summary['p95_ms']:7.0f} ms"
              f"  CPU p50 {cpu_ms:6.0f} ms  ×{results[name]['x_python']} of python -c pass"
              f"{ratio}")
    write_result("startup", {"runs": args.runs, "chunks": "README.md + docs/*.md",
                             "baseline_src": str(args.baseline_src or ""), "results": results})


if __name__ == "__main__":
    main()
