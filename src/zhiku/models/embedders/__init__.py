"""Embedders: batch of texts in, L2-normalised float32 vectors out."""

from zhiku.models.embedders.base import Embedder, embed_texts
from zhiku.models.embedders.registry import Embedders, make_embedder

__all__ = ["Embedder", "Embedders", "embed_texts", "make_embedder"]
