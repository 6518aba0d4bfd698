"""Freed memory handed back to the system: safe to call at any time, on any C library."""

from __future__ import annotations

import platform

from zhiku.core.heap import release_free_memory


def test_release_free_memory_returns_freed_heap_or_does_nothing() -> None:
    blocks = [bytearray(64 * 1024) for _ in range(2000)]  # ~128 MB from the heap
    del blocks
    released = release_free_memory()
    assert isinstance(released, bool)
    if platform.libc_ver()[0] == "glibc":
        assert released
