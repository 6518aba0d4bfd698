"""The optimised-model cache of the bundled embedder: same vectors, rebuilt when damaged, never
required."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from zhiku.core.settings import Settings
from zhiku.models.embedders import make_embedder
from zhiku.models.embedders.minilm import MiniLMEmbedder, _model_path
from zhiku.models.embedders.onnx_cache import UNUSED_DAYS, cached_model_path, prune_unused

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


def _age(path: Path, days: float) -> None:
    then = time.time() - days * 86_400
    os.utime(path, (then, then))


def test_writing_a_copy_deletes_copies_unused_for_a_month(tmp_path: Path) -> None:
    stale = tmp_path / "model-0123456789abcdef.onnx"  # an older runtime's or venv's copy
    recent = tmp_path / "model-fedcba9876543210.onnx"  # another environment's, in use
    crashed = tmp_path / ".model-0123456789abcdef.4242.partial.onnx"
    mine = tmp_path / "notes.onnx"  # not a copy: left alone whatever its age
    for path in (stale, recent, crashed, mine):
        path.write_bytes(b"x")
    for path in (stale, crashed, mine):
        _age(path, UNUSED_DAYS + 1)
    _age(recent, UNUSED_DAYS - 1)
    MiniLMEmbedder(cache_dir=tmp_path).embed_batch(TEXTS[:1])
    made = cached_model_path(_model_path(), tmp_path, _ort_version())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [made.name, recent.name, mine.name])


def test_opening_a_copy_marks_it_used(tmp_path: Path) -> None:
    MiniLMEmbedder(cache_dir=tmp_path)
    (copy,) = _copies(tmp_path)
    _age(copy, UNUSED_DAYS + 5)
    MiniLMEmbedder(cache_dir=tmp_path)  # loads the copy
    assert time.time() - copy.stat().st_mtime < 3_600
    assert prune_unused(tmp_path, keep=tmp_path / "other.onnx") == []
