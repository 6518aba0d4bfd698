"""Freed memory handed back to the system: safe to call at any time, on any C library."""

from __future__ import annotations

import platform

from zhiku.core.heap import release_free_memory, tune_allocator


def test_release_free_memory_returns_freed_heap_or_does_nothing() -> None:
    blocks = [bytearray(64 * 1024) for _ in range(2000)]  # ~128 MB from the heap
    del blocks
    released = release_free_memory()
    assert isinstance(released, bool)
    if platform.libc_ver()[0] == "glibc":
        assert released


def test_tune_allocator_fixes_the_mmap_threshold_on_glibc_only() -> None:
    assert tune_allocator(0) is False  # 0 keeps glibc's adaptive threshold
    tuned = tune_allocator(1024)
    assert tuned is (platform.libc_ver()[0] == "glibc")
    blocks = [bytearray(2 * 1024 * 1024) for _ in range(8)]  # served from mmap when tuned
    del blocks
    assert isinstance(release_free_memory(), bool)
