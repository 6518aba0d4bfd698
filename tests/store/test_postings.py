"""The compact vocabulary and postings layout of the in-memory keyword index, against plain
Python dictionaries on random data."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from zhiku.store.sqlite.postings import TF_MAX, PostingsBuilder, Vocabulary


def test_vocabulary_finds_every_term_and_nothing_else() -> None:
    terms = ["中文", "检索", "bm25", "a", "", "é", *(f"t{n}" for n in range(5000))]
    vocab = Vocabulary(terms)
    assert len(vocab) == len(terms)
    assert all(vocab.get(t) == n for n, t in enumerate(terms))
    assert vocab.get("missing") is None and vocab.get("中") is None and vocab.get("t5000") is None
    assert vocab.nbytes < 40 * len(terms)


def test_equal_hashes_are_told_apart_by_their_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    import zhiku.store.sqlite.postings as postings

    monkeypatch.setattr(postings, "hash", lambda term: len(term), raising=False)
    terms = ["ab", "cd", "ef", "x", "yz"]  # four of five share a hash
    vocab = Vocabulary(terms)
    assert [vocab.get(t) for t in terms] == [0, 1, 2, 3, 4]
    assert vocab.get("gh") is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_postings_match_a_plain_count(seed: int) -> None:
    rng = random.Random(seed)
    rows = [[rng.randrange(300) for _ in range(rng.randrange(0, 40))] for _ in range(500)]
    rows[7] = [5] * (TF_MAX + 10)  # a term repeated past what a posting counts
    builder = PostingsBuilder()
    for start in range(0, len(rows), 64):  # batches, rows ascending
        batch = rows[start : start + 64]
        terms = np.asarray([t for r in batch for t in r], dtype=np.int32)
        at = np.repeat(np.arange(start, start + len(batch), dtype=np.int32),
                       [len(r) for r in batch])
        builder.add(terms, at)
    indptr, docs, tfs = builder.build(310)
    for term in range(310):
        want = sorted((row, min(n, TF_MAX)) for row, r in enumerate(rows)
                      for t, n in Counter(r).items() if t == term)
        lo, hi = indptr[term], indptr[term + 1]
        assert list(zip(docs[lo:hi].tolist(), tfs[lo:hi].tolist(), strict=True)) == want
