"""What the embedder is given: the chunk's heading path, then its text, on every path (a first
ingest, the sweep of a new embedder, and the heal of a document left without vectors)."""

from __future__ import annotations

import numpy as np

from zhiku.ingest.pipeline import SourceItem
from zhiku.models.embedders.hashing import HashingEmbedder
from zhiku.service import Zhiku
from zhiku.text.indexing import index_text

POLICY = SourceItem("upload://policy.md",
                    data=b"# Policy\n\n## Travel\n\nBook economy class flights.\n")


def _vector(zk: Zhiku, chunk_id: int, model: str) -> np.ndarray:
    return zk.store.vectors_for([chunk_id], model)[chunk_id]


def test_every_path_embeds_the_heading_path_and_text(zk: Zhiku) -> None:
    zk.create_kb("kb", embedder="hashing")
    zk.ingest_items("kb", [POLICY])
    doc = zk.document("kb", POLICY.source)
    (chunk,) = [c for c in zk.store.list_chunks(doc.id) if c.searchable]
    assert chunk.heading_path == ["Policy", "Travel"]

    def expected(dim: int, text: str) -> np.ndarray:
        return HashingEmbedder(dim).embed_batch([index_text(chunk.heading_path, text)])[0]

    assert np.allclose(_vector(zk, chunk.id, "hashing-256"), expected(256, chunk.text))
    zk.set_embedder("kb", "hashing-512")  # sweeps every chunk without a hashing-512 vector
    assert np.allclose(_vector(zk, chunk.id, "hashing-512"), expected(512, chunk.text))

    edited = "Book business class flights."
    zk.store.update_chunk_text(chunk.id, edited, token_count=4, terms=["business"])
    assert zk.store.get_document(doc.id).status == "parsed"  # the edit dropped the vector
    report = zk.ingest_items("kb", [POLICY], sweep="none")  # the same file again heals it
    assert [f.status for f in report.files] == ["unchanged"] and report.chunks_embedded == 1
    assert zk.store.get_document(doc.id).status == "ready"
    assert np.allclose(_vector(zk, chunk.id, "hashing-512"), expected(512, edited))
