"""ONNX inference sessions that start from a cached, pre-optimised copy of their model.

Graph optimisation (constant folding of the int8 weights, operator fusion) is most of the cost
of opening the bundled model: about twice the time of loading an already optimised graph. The
first session of a model writes its optimised graph into a cache folder (the Zhiku home, since
site-packages may be read-only); later sessions load that copy. The copy is made at the
``EXTENDED`` level, whose passes do not depend on the CPU; the CPU-specific passes still run
when the copy is loaded. Its name is keyed by the onnxruntime version and the source model's
path, size and modification time, so an upgrade of either makes a new copy. The cache is never
required: an unwritable folder or an unreadable copy falls back to the source model.

A copy's modification time records its last use (to the day). Writing a new copy deletes the
copies nobody has opened for ``UNUSED_DAYS``: those of an upgraded runtime, a removed virtual
environment or an older model (about 90 MB each for the bundled model).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime as ort

UNUSED_DAYS = 30
_DAY = 86_400.0
# copies, and partial copies a crashed process left
_COPY_NAME = re.compile(r"(.+-[0-9a-f]{16}|\..+\.[0-9]+\.partial)\.onnx")


def cache_key(model: Path, ort_version: str) -> str:
    """A short name part that changes with the runtime and the model file."""
    stat = model.stat()
    raw = f"{ort_version}|{model.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def cached_model_path(model: Path, cache_dir: Path, ort_version: str) -> Path:
    """Where the optimised copy of ``model`` lives in ``cache_dir``."""
    return cache_dir / f"{model.stem}-{cache_key(model, ort_version)}.onnx"


def open_session(
    model: Path, options: ort.SessionOptions, cache_dir: Path | None = None
) -> ort.InferenceSession:
    """A CPU session for ``model``: from its optimised copy in ``cache_dir`` when there is one,
    otherwise from ``model`` (writing the copy when ``cache_dir`` is given and writable)."""
    import onnxruntime as ort

    providers = ["CPUExecutionProvider"]
    if cache_dir is None:
        return ort.InferenceSession(str(model), options, providers=providers)
    cached = cached_model_path(model, cache_dir, ort.__version__)
    if cached.is_file():
        try:
            session = ort.InferenceSession(str(cached), options, providers=providers)
        except Exception:  # a damaged copy: drop it and make it again from the source model
            with contextlib.suppress(OSError):
                cached.unlink()
        else:
            _mark_used(cached)
            return session
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        return ort.InferenceSession(str(model), options, providers=providers)
    partial = cached.with_name(f".{cached.stem}.{os.getpid()}.partial.onnx")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(partial)
    try:
        session = ort.InferenceSession(str(model), options, providers=providers)
    except Exception:  # the copy could not be written: run from the source model, uncached
        with contextlib.suppress(OSError):
            partial.unlink()
        options.optimized_model_filepath = ""
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(model), options, providers=providers)
    try:
        os.replace(partial, cached)  # atomic: a concurrent reader sees the whole copy or none
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()
    else:
        prune_unused(cache_dir, keep=cached)
    return session


def _mark_used(copy: Path) -> None:
    """Move ``copy``'s modification time to now, at most once a day (a read-only cache keeps
    its times)."""
    with contextlib.suppress(OSError):
        if time.time() - copy.stat().st_mtime > _DAY:
            os.utime(copy)


def prune_unused(cache_dir: Path, keep: Path, days: float = UNUSED_DAYS) -> list[Path]:
    """Delete the cached copies in ``cache_dir`` (other than ``keep``) unused for ``days``;
    returns them. A copy deleted while a process opens it is made again by that process."""
    cutoff = time.time() - days * _DAY
    removed = []
    for copy in cache_dir.glob("*.onnx"):
        if copy == keep or not _COPY_NAME.fullmatch(copy.name):
            continue
        with contextlib.suppress(OSError):
            if copy.stat().st_mtime < cutoff:
                copy.unlink()
                removed.append(copy)
    return removed
