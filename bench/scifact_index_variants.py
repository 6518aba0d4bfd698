"""Index-side variants of the SciFact knowledge base bench/scifact_product.py built, simulated
on a copy of it (no rebuild); score a copy with bench/scifact_product_variants.py --home:

- title: every chunk after a document's first is indexed and embedded as
  ``title + "\\n" + text`` (the first chunk already starts with the title line); ~6,000 chunks
  are re-embedded (28 minutes on a loaded 2-core machine);
- whole: a document of at most 1.5 chunk sizes (384 tokens) that default chunking cut up is one
  chunk: its first chunk gets the whole file's terms and the vector of the whole file (title and
  abstract, as MiniLM embeds it: the first 256 word pieces), its other chunks lose their terms
  and are disabled. Whole-file vectors come from ``--vectors`` (an ``.npy`` matrix) and
  ``--ids`` (a ``.jsonl`` with one ``{"id"}`` per row, in order) where given, else they are
  embedded.

    .venv/bin/python bench/scifact_index_variants.py title
    .venv/bin/python bench/scifact_index_variants.py whole --vectors V.npy --ids V.jsonl
    .venv/bin/python bench/scifact_product_variants.py --home bench/out/scifact-product-title \\
        --tag _title
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from _common import OUT
from zhiku.core.settings import Settings
from zhiku.models.embedders import embed_texts
from zhiku.service import Zhiku
from zhiku.text.tokenize import analyze
from zhiku.text.tokens import count_tokens

FILES = OUT / "scifact-files"
WHOLE_MAX_TOKENS = 384


def title_context(zk: Zhiku) -> str:
    kb = zk.kb("scifact")
    embedder = zk.searcher._embedder_for(kb.embedder)
    ids: list[int] = []
    texts: list[str] = []
    for doc in zk.store.list_documents(kb.id):
        title = (FILES / Path(doc.source).name).read_text(encoding="utf-8").split("\n", 1)[0]
        for chunk in zk.store.list_chunks(doc.id):
            if chunk.ord > 0:
                ids.append(chunk.id)
                texts.append(f"{title.strip()}\n{chunk.text}")
    zk.store.set_chunk_terms({cid: analyze(text) for cid, text in zip(ids, texts, strict=True)})
    zk.store.add_vectors(kb.id, embedder.model_id, ids, embed_texts(embedder, texts, 16))
    return f"{len(ids)} chunks re-indexed and re-embedded"


def whole_documents(zk: Zhiku, vectors: Path | None, ids: Path | None) -> str:
    kb = zk.kb("scifact")
    embedder = zk.searcher._embedder_for(kb.embedder)
    given: dict[str, np.ndarray] = {}
    if vectors is not None and ids is not None:
        matrix = np.load(vectors)
        names = [json.loads(line)["id"] for line in ids.open(encoding="utf-8")]
        given = {name: matrix[row] for row, name in enumerate(names)}
    terms: dict[int, list[str]] = {}
    firsts: list[int] = []
    stems: dict[int, str] = {}
    dropped: list[int] = []
    for doc in zk.store.list_documents(kb.id):
        chunks = zk.store.list_chunks(doc.id)
        text = (FILES / Path(doc.source).name).read_text(encoding="utf-8").strip()
        if len(chunks) < 2 or count_tokens(text) > WHOLE_MAX_TOKENS:
            continue
        terms[chunks[0].id] = analyze(text)
        firsts.append(chunks[0].id)
        stems[chunks[0].id] = Path(doc.source).stem
        for chunk in chunks[1:]:
            terms[chunk.id] = []
            dropped.append(chunk.id)
    zk.store.set_chunk_terms(terms)
    if given:
        whole = np.array([given[stems[cid]] for cid in firsts], dtype=np.float32)
    else:
        files = [(FILES / f"{stems[cid]}.txt").read_text(encoding="utf-8").strip()
                 for cid in firsts]
        whole = embed_texts(embedder, files, 16)
    zk.store.add_vectors(kb.id, embedder.model_id, firsts, whole)
    for cid in dropped:
        zk.store.set_chunk_enabled(cid, False)
    return f"{len(firsts)} documents made one chunk, {len(dropped)} chunks disabled"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("variant", choices=("title", "whole"))
    ap.add_argument("--vectors", type=Path, help="whole-file vectors (.npy), one row per file")
    ap.add_argument("--ids", type=Path, help='.jsonl naming the files of --vectors ({"id"})')
    args = ap.parse_args()
    home = OUT / f"scifact-product-{args.variant}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(OUT / "scifact-product" / "zhiku.db", home / "zhiku.db")
    zk = Zhiku(Settings(home=home))
    started = time.perf_counter()
    done = title_context(zk) if args.variant == "title" else whole_documents(zk, args.vectors,
                                                                             args.ids)
    print(f"{home}: {done} in {time.perf_counter() - started:.0f} s")
    zk.close()


if __name__ == "__main__":
    main()
