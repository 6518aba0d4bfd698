"""What the title line in every chunk would give SciFact through the product path, without a
rebuild: a copy of the knowledge base bench/scifact_product.py built, in which every chunk
after a document's first is indexed and embedded as ``title + "\\n" + text`` (the first chunk
already starts with the title line). Score it with bench/scifact_product_variants.py:

    .venv/bin/python bench/scifact_title_context.py     # ~6,000 chunks re-embedded
    .venv/bin/python bench/scifact_product_variants.py --home bench/out/scifact-product-title \\
        --tag _title
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from _common import OUT
from zhiku.core.settings import Settings
from zhiku.models.embedders import embed_texts
from zhiku.service import Zhiku
from zhiku.text.tokenize import analyze


def main() -> None:
    source, home = OUT / "scifact-product", OUT / "scifact-product-title"
    files = OUT / "scifact-files"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(source / "zhiku.db", home / "zhiku.db")
    zk = Zhiku(Settings(home=home))
    kb = zk.kb("scifact")
    embedder = zk.searcher._embedder_for(kb.embedder)
    ids: list[int] = []
    texts: list[str] = []
    for doc in zk.store.list_documents(kb.id):
        path = files / Path(doc.source).name
        title = path.read_text(encoding="utf-8").split("\n", 1)[0].strip()
        for chunk in zk.store.list_chunks(doc.id):
            if chunk.ord > 0:
                ids.append(chunk.id)
                texts.append(f"{title}\n{chunk.text}")
    zk.store.set_chunk_terms({cid: analyze(text) for cid, text in zip(ids, texts, strict=True)})
    started = time.perf_counter()
    zk.store.add_vectors(kb.id, embedder.model_id, ids, embed_texts(embedder, texts, 16))
    print(f"{len(ids)} chunks re-indexed and re-embedded in {time.perf_counter() - started:.0f} s")
    zk.close()


if __name__ == "__main__":
    main()
