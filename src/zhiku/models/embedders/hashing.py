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


class HashingEmbedder:
    """Signed feature hashing of keyword terms into ``dim`` buckets."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hashing-{dim}"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch of texts."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in analyze(text):
                h = zlib.crc32(term.encode())
                out[row, h % self.dim] += 1.0 if h & 0x80000000 else -1.0
        return l2_normalize(out)
