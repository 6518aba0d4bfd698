"""A trivial, model-free embedder: feature hashing of analyzer terms.

It measures the pipeline's own overhead in benchmarks and keeps a knowledge base usable with
no model at all. Not a substitute for a real model's semantic vectors.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from zhiku.models.embedders.base import l2_normalize
from zhiku.text.tokenize import analyze


@lru_cache(maxsize=500_000)
def _feature(term: str) -> int:
    """crc32 of the term: the bucket is ``h % dim``, the sign its top bit."""
    return zlib.crc32(term.encode())


class HashingEmbedder:
    """Signed feature hashing of keyword terms into ``dim`` buckets."""

    multilingual = False

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hashing-{dim}"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch of texts."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            terms = analyze(text)
            if not terms:
                continue
            h = np.fromiter(map(_feature, terms), dtype=np.uint32, count=len(terms))
            signs = np.where(h & 0x80000000, 1.0, -1.0)
            out[row] = np.bincount(h % self.dim, weights=signs, minlength=self.dim)
        return l2_normalize(out)
