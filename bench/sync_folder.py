"""Re-syncing a folder source where 1% of the files changed, beside its first full sync in the
same run.

A folder of ``--files`` Markdown files (a few paragraphs each) is added as a source of a fresh
knowledge base and synced in full; then ``--changed`` percent of the files get new content and
the source is synced again. Reported: both times, their ratio (target ≤ 10%) and how many files
the second run read and parsed (target: only the changed ones, so unchanged files parsed = 0).
Runs execute in this process (``zk.sources.execute``), as a worker would.

    .venv/bin/python bench/sync_folder.py --files 10000
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from _common import write_result
from zhiku.core.settings import Settings
from zhiku.service import Zhiku

WORDS = ("policy leave travel expense receipt manager budget project team office contract "
         "holiday training security laptop badge parking meeting review salary pension").split()


def text(n: int, rng: random.Random, edition: int = 0) -> str:
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(60)) + "." for _ in range(3)]
    return f"# Note {n} (edition {edition})\n\n" + "\n\n".join(paragraphs) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=1.0, help="percent of files changed")
    parser.add_argument("--embedder", default="hashing")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="zhiku-sync-bench-") as tmp:
        root = Path(tmp) / "share"
        for n in range(args.files):
            path = root / f"dept{n % 20:02}" / f"note{n:05}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text(n, rng))
        with Zhiku(Settings(home=Path(tmp) / "home", embedder=args.embedder)) as zk:
            zk.create_kb("bench")
            zk.sources.add("bench", "share", "folder", {"path": str(root)})

            def timed_sync() -> tuple[float, int, dict[str, int]]:
                run = zk.sources.sync("share")
                started = time.perf_counter()
                done = zk.sources.execute(run.id)
                seconds = time.perf_counter() - started
                counts = {k: getattr(done, k) for k in
                          ("added", "updated", "unchanged", "removed", "failed")}
                return seconds, zk.sources.last_fetched, counts

            first_s, first_parsed, first = timed_sync()
            changed = rng.sample(range(args.files), max(1, round(args.files * args.changed / 100)))
            for n in changed:
                (root / f"dept{n % 20:02}" / f"note{n:05}.md").write_text(text(n, rng, 1))
            second_s, second_parsed, second = timed_sync()
    ratio = second_s / first_s
    result = {
        "files": args.files, "changed": len(changed), "embedder": args.embedder,
        "first_sync_s": round(first_s, 3), "first_counts": first, "first_parsed": first_parsed,
        "resync_s": round(second_s, 3), "resync_counts": second, "resync_parsed": second_parsed,
        "unchanged_parsed": second_parsed - second["updated"],
        "ratio": round(ratio, 4), "target_ratio": 0.10,
    }
    path = write_result(f"sync_folder_{args.files}", result)
    print(f"first sync {first_s:.2f}s ({first['added']} added); re-sync {second_s:.2f}s "
          f"({second['updated']} updated, {second['unchanged']} unchanged, {second_parsed} "
          f"parsed): ratio {ratio:.1%} -> {path}")


if __name__ == "__main__":
    main()
