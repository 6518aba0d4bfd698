"""The optimised-model cache of the bundled embedder: same vectors, rebuilt when damaged, never
required."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zhiku.core.settings import Settings
from zhiku.models.embedders import make_embedder
from zhiku.models.embedders.minilm import MiniLMEmbedder, _model_path
from zhiku.models.embedders.onnx_cache import cached_model_path

TEXTS = ["where does Zhiku keep its data", "The database is the single source of truth.",
         "annual leave " * 200]


def _copies(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.onnx"))


def test_the_cached_copy_gives_the_vectors_of_the_source_model(tmp_path: Path) -> None:
    expected = MiniLMEmbedder().embed_batch(TEXTS)
    first = MiniLMEmbedder(cache_dir=tmp_path).embed_batch(TEXTS)  # writes the copy
    (copy,) = _copies(tmp_path)
    assert copy == cached_model_path(_model_path(), tmp_path, _ort_version())
    stamp = copy.stat().st_mtime_ns
    second = MiniLMEmbedder(cache_dir=tmp_path).embed_batch(TEXTS)  # loads the copy
    assert _copies(tmp_path) == [copy] and copy.stat().st_mtime_ns == stamp
    assert np.allclose(first, expected, atol=1e-6)
    assert np.allclose(second, expected, atol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial files


def test_a_damaged_copy_is_made_again(tmp_path: Path) -> None:
    copy = cached_model_path(_model_path(), tmp_path, _ort_version())
    copy.write_bytes(b"not an onnx model")
    vectors = MiniLMEmbedder(cache_dir=tmp_path).embed_batch(TEXTS[:1])
    assert np.allclose(vectors, MiniLMEmbedder().embed_batch(TEXTS[:1]), atol=1e-6)
    assert copy.stat().st_size > 1_000_000


def test_an_unwritable_cache_folder_falls_back_to_the_source_model(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder would be")
    vectors = MiniLMEmbedder(cache_dir=blocker / "models").embed_batch(TEXTS[:1])
    assert vectors.shape == (1, 384)
    assert blocker.is_file()


def test_the_copy_is_keyed_by_runtime_version_and_model_file(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"v1")
    a = cached_model_path(model, tmp_path, "1.32.0")
    assert a != cached_model_path(model, tmp_path, "1.33.0")
    model.write_bytes(b"v2 longer")
    assert a != cached_model_path(model, tmp_path, "1.32.0")


def test_the_registry_keeps_copies_where_the_settings_say(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", model_cache_dir=tmp_path / "models")
    make_embedder("minilm", settings).embed_batch(TEXTS[:1])
    assert len(_copies(tmp_path / "models")) == 1


def _ort_version() -> str:
    import onnxruntime

    return str(onnxruntime.__version__)
