"""Handing freed memory back to the operating system after a burst of work.

glibc's allocator keeps memory that Python objects, SQLite and the embedding runtime freed in
its per-thread arenas, so a long-lived server that ingested a batch of documents stays at its
peak size although nothing uses that memory any more. ``release_free_memory`` asks glibc to
return it (``malloc_trim``); on other C libraries it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


def release_free_memory() -> bool:
    """Collect garbage and return free heap pages to the system; True when glibc did so."""
    gc.collect()
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
