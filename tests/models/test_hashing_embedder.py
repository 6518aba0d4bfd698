"""The hashing embedder: each term adds ±1 to the bucket its crc32 names, rows are unit length,
and a text's vector does not depend on the batch it is embedded in."""

from __future__ import annotations

import zlib

import numpy as np

from zhiku.models.embedders.hashing import HashingEmbedder
from zhiku.text.tokenize import analyze

TEXTS = [
    "员工出差报销需要提交发票和审批单。",
    "",  # no terms: a zero row
    "the and of",  # stop words only: a zero row
    "Travel expenses: 报销 travel receipts, 头发 and 頭髮.",
    "新员工入职第一年有十五天年假" * 20,
]


def _by_definition(text: str, dim: int) -> np.ndarray:
    row = np.zeros(dim, dtype=np.float64)
    for term in analyze(text):
        h = zlib.crc32(term.encode("utf-8"))
        row[h % dim] += 1.0 if h & 0x80000000 else -1.0
    norm = np.linalg.norm(row)
    return (row / norm if norm else row).astype(np.float32)


def test_vectors_follow_the_definition_term_by_term() -> None:
    for dim in (256, 7):
        got = HashingEmbedder(dim).embed_batch(TEXTS)
        assert got.shape == (len(TEXTS), dim) and got.dtype == np.float32
        for row, text in zip(got, TEXTS, strict=True):
            np.testing.assert_allclose(row, _by_definition(text, dim), atol=1e-6)
        assert not got[1].any() and not got[2].any()


def test_a_vector_does_not_depend_on_its_batch() -> None:
    embedder = HashingEmbedder()
    together = embedder.embed_batch(TEXTS)
    alone = np.vstack([embedder.embed_batch([t]) for t in TEXTS])
    assert np.array_equal(together, alone)
    assert embedder.embed_batch([]).shape == (0, 256)
