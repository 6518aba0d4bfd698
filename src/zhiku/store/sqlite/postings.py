"""Compact term postings for the in-memory keyword index: a vocabulary in a few numpy arrays
(no Python object per term) and postings built batch by batch into CSR arrays.

Per term the vocabulary keeps a 64-bit hash, its place in the hash order, an offset and the
term's UTF-8 bytes (about 20 bytes plus the term); a posting is a row (int32) and a term
frequency (uint16): 6 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TF_MAX = np.iinfo(np.uint16).max  # a term more frequent in one chunk counts this many times


class Vocabulary:
    """Terms to ids, looked up by hash (Python's string hash: the index lives in one process)
    and confirmed against the stored bytes, so a hash collision never merges two terms."""

    __slots__ = ("_blob", "_hashes", "_ids", "_offsets")

    def __init__(self, terms: Sequence[str]) -> None:
        """``terms[i]`` gets id ``i``."""
        encoded = [t.encode() for t in terms]
        hashes = np.fromiter((hash(t) for t in terms), dtype=np.int64, count=len(terms))
        self._ids = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._ids]
        lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
        self._offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self._offsets[1:])
        self._blob = b"".join(encoded)

    def __len__(self) -> int:
        return int(self._ids.size)

    def get(self, term: str) -> int | None:
        """The id of ``term``, or ``None``."""
        h = hash(term)
        want = term.encode()
        i = int(np.searchsorted(self._hashes, h))
        while i < self._hashes.size and self._hashes[i] == h:
            t = int(self._ids[i])
            if self._blob[self._offsets[t] : self._offsets[t + 1]] == want:
                return t
            i += 1
        return None

    @property
    def nbytes(self) -> int:
        return int(self._hashes.nbytes + self._ids.nbytes + self._offsets.nbytes
                   + len(self._blob))


class PostingsBuilder:
    """Collects ``(term id, row)`` occurrences batch by batch (rows ascending across batches)
    and lays them out by term: ``indptr`` into ``docs`` (rows, ascending within a term) and
    ``tfs``. Each batch is reduced to its distinct (term, row) pairs at once, so the tokens of
    only one batch are held; the final layout is a counting sort, with no sort of all
    postings."""

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._counts = np.zeros(0, dtype=np.int64)

    def add(self, terms: np.ndarray, rows: np.ndarray) -> None:
        """One batch: the term id and row of every token."""
        if terms.size == 0:
            return
        key = (terms.astype(np.int64) << 32) | rows.astype(np.int64)
        pairs, tf = np.unique(key, return_counts=True)  # by term, then row
        t = (pairs >> 32).astype(np.int32)
        r = (pairs & 0xFFFFFFFF).astype(np.int32)
        self._parts.append((t, r, np.minimum(tf, TF_MAX).astype(np.uint16)))
        counts = np.bincount(t)
        if counts.size > self._counts.size:
            counts[: self._counts.size] += self._counts
            self._counts = counts
        else:
            self._counts[: counts.size] += counts

    def build(self, vocab_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, docs, tfs)``; the collected batches are released as they are laid out."""
        counts = np.zeros(vocab_size, dtype=np.int64)
        counts[: self._counts.size] = self._counts
        indptr = np.zeros(vocab_size + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        total = int(indptr[-1])
        docs = np.empty(total, dtype=np.int32)
        tfs = np.empty(total, dtype=np.uint16)
        cursor = indptr[:-1].copy()
        parts, self._parts = self._parts, []
        parts.reverse()
        while parts:
            t, r, tf = parts.pop()
            starts = np.flatnonzero(np.concatenate(([True], t[1:] != t[:-1])))
            sizes = np.diff(np.append(starts, t.size))
            first = t[starts]
            within = np.arange(t.size) - np.repeat(starts, sizes)
            pos = np.repeat(cursor[first], sizes) + within
            docs[pos] = r
            tfs[pos] = tf
            cursor[first] += sizes
        return indptr, docs, tfs

