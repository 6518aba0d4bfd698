"""The C allocator of a long-lived process: how it takes memory, and handing it back.

glibc's allocator keeps memory that Python objects, SQLite and the embedding runtime freed in
its per-thread arenas, so a long-lived server that ingested a batch of documents stays at its
peak size although nothing uses that memory any more. ``release_free_memory`` asks glibc to
return it (``malloc_trim``, which walks every thread's arena, whichever thread calls it).

By default glibc also raises its threshold for serving a block from ``mmap`` each time such a
block is freed (up to 32 MiB): the embedding runtime frees its multi-megabyte activation
buffers after every batch, so within a few batches they come from the arenas instead, where
they fragment the heap of the thread that ran them and stay resident. ``tune_allocator`` fixes
the threshold (``ZHIKU_MALLOC_MMAP_THRESHOLD_KB``): blocks that large always come from and go
back to the system. On other C libraries both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Callable

# mallopt(3) parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - glibc only: probe before use
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):  # not glibc
        return None
    return libc


def _malloc_trim() -> Callable[[int], int] | None:
    libc = _libc()
    return None if libc is None else libc.malloc_trim


def release_free_memory() -> bool:
    """Collect garbage and return free heap pages to the system; True when glibc did so."""
    gc.collect()
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


def tune_allocator(mmap_threshold_kb: int) -> bool:
    """Serve blocks of at least ``mmap_threshold_kb`` KiB from ``mmap`` for the rest of the
    process, and trim a heap whose free top grows past twice that; 0 keeps glibc's adaptive
    default. True when glibc took the settings."""
    libc = _libc()
    if libc is None or mmap_threshold_kb <= 0:
        return False
    size = mmap_threshold_kb * 1024
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, size)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, 2 * size)
    )
