"""A trivial, model-free embedder: feature hashing of analyzer terms.

It measures the pipeline's own overhead in benchmarks and keeps a knowledge base usable with
no model at all. Not a substitute for a real model's semantic vectors.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from zhiku.models.embedders.base import l2_normalize
from zhiku.text.tokenize import analyze


def features(terms: Sequence[str]) -> np.ndarray:
    """crc32 of each term's UTF-8 (the bucket is ``h % dim``, the sign its top bit).

    Terms never hold a space, so they are encoded as one string and split again: a few C
    calls for all of them instead of Python work per term."""
    if not terms:
        return np.zeros(0, dtype=np.uint32)
    parts = " ".join(terms).encode().split(b" ")
    return np.fromiter(map(zlib.crc32, parts), dtype=np.uint32, count=len(parts))


class HashingEmbedder:
    """Signed feature hashing of keyword terms into ``dim`` buckets."""

    multilingual = False

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hashing-{dim}"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch of texts: every term of the batch hashed at once, each row's
        signed bucket counts summed by one ``bincount`` over (row, bucket) cells."""
        rows = [analyze(text) for text in texts]
        counts = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        h = features([term for row in rows for term in row])
        signs = np.where(h & 0x80000000, 1.0, -1.0)
        cells = np.repeat(np.arange(len(rows), dtype=np.int64) * self.dim, counts)
        cells += h % self.dim
        summed = np.bincount(cells, weights=signs, minlength=len(rows) * self.dim)
        return l2_normalize(summed.reshape(len(rows), self.dim).astype(np.float32))
