"""The embedder protocol and the length-sorted batching every caller should use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Turns texts into unit vectors. ``model_id`` and ``dim`` are stored with every vector;
    ``multilingual`` says whether a query in one language finds passages in another (an
    English-only model's neighbours of a Chinese query are noise, and search ignores them)."""

    model_id: str
    dim: int
    multilingual: bool

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch; returns a ``(len(texts), dim)`` float32 array of unit vectors."""
        ...


def embed_texts(embedder: Embedder, texts: Sequence[str], batch_size: int = 8) -> np.ndarray:
    """Embed any number of texts in length-sorted batches (little padding), in input order."""
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        out[idx] = embedder.embed_batch([texts[i] for i in idx])
    return out


def l2_normalize(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)
