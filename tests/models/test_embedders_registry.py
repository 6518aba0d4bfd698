"""The embedders registry: one model per name and process, optionally loaded in the background."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from zhiku.core.errors import InvalidInput
from zhiku.core.settings import Settings
from zhiku.models.embedders import Embedders


def test_a_preloaded_embedder_is_the_one_get_returns(settings: Settings) -> None:
    embedders = Embedders(settings)
    embedders.preload("minilm")
    embedders.preload("minilm")  # a second call does not start a second load
    model = embedders.get("minilm")
    assert model is embedders.get("minilm")
    assert model.embed_batch(["leave policy"]).shape == (1, 384)
    assert not [t for t in threading.enumerate() if t.name.startswith("zhiku-load-")]


def test_concurrent_getters_share_one_preloaded_model(settings: Settings) -> None:
    embedders = Embedders(settings)
    embedders.preload("hashing-64")
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(embedders.get("hashing-64")))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(g is got[0] for g in got)
    vectors = embedders.get("hashing-64").embed_batch(["a b", "c d"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


def test_a_failed_preload_is_raised_by_get(settings: Settings) -> None:
    embedders = Embedders(settings)
    embedders.preload("no-such-model")
    with pytest.raises(InvalidInput, match="unknown embedder"):
        embedders.get("no-such-model")
