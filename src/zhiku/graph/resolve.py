"""Entity resolution: one key per name, and explainable alias merges between keys.

``normalize_name`` folds what never distinguishes two entities — width (NFKC), case,
traditional vs simplified characters (OpenCC t2s), punctuation, spacing, a leading "the" — so
"The Beatles", "the beatles." and "ＴＨＥ ＢＥＡＴＬＥＳ" share one node. ``suggest_merges`` goes
further with a threshold on string similarity, acronyms, and (optionally) the cosine of name
embeddings; each suggestion carries its reason, and the store keeps merges reversible.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

from zhiku.text.lang import CJK_RE

_PUNCT_RE = re.compile(r"[^\w\s&+#]|_", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    import opencc

    converter = opencc.OpenCC("t2s")
    return converter.convert


@lru_cache(maxsize=500_000)
def normalize_name(name: str) -> str:
    """The resolution key of a name: NFKC, simplified Chinese, lower case, no punctuation."""
    text = unicodedata.normalize("NFKC", name)
    if CJK_RE.search(text):
        text = _t2s()(text)
    text = text.lower().replace("’", "'")
    text = re.sub(r"'s\b", "", text)
    text = _SPACE_RE.sub(" ", _PUNCT_RE.sub(" ", text)).strip()
    if text.startswith("the ") and len(text) > 4:
        text = text[4:]
    if CJK_RE.search(text):  # no spaces between Chinese characters
        text = re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", text)
    return text


@dataclass(frozen=True, slots=True)
class NameRecord:
    """A candidate for merging: a node's id, display name, key and number of mentions."""

    id: int
    name: str
    key: str
    mentions: int


@dataclass(frozen=True, slots=True)
class MergeSuggestion:
    """Merge ``node_id`` into ``into_id`` because of ``reason`` (score in [0, 1])."""

    node_id: int
    into_id: int
    reason: str
    score: float


def _acronym(key: str) -> str:
    words = [w for w in key.split() if w not in ("of", "the", "and", "for", "de")]
    return "".join(w[0] for w in words) if len(words) >= 2 else ""


def _blocks(records: Sequence[NameRecord]) -> dict[str, list[int]]:
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        if CJK_RE.search(r.key):
            blocks["zh:" + r.key[:1]].append(i)
            continue
        for token in set(r.key.split()):
            if len(token) >= 3:
                blocks["w:" + token].append(i)
        if (acro := _acronym(r.key)) and len(acro) >= 2:
            blocks["a:" + acro].append(i)
        if r.key.isalpha() and 2 <= len(r.key) <= 6 and r.name.isupper():
            blocks["a:" + r.key].append(i)
    return blocks


def _pair_reason(
    a: NameRecord, b: NameRecord, cosine: float | None, string_threshold: float,
    embed_threshold: float,
) -> tuple[str, float] | None:
    if a.key == b.key:
        return "same normalised name", 1.0
    for short, long_ in ((a, b), (b, a)):
        if short.name.isupper() and short.key == _acronym(long_.key) and len(short.key) >= 2:
            return f"acronym: '{short.name}' = initials of '{long_.name}'", 0.95
    ratio = SequenceMatcher(None, a.key, b.key).ratio()
    min_len = min(len(a.key), len(b.key))
    if ratio >= string_threshold and min_len >= 5:
        return f"string similarity {ratio:.2f} between '{a.name}' and '{b.name}'", ratio
    if cosine is not None and cosine >= embed_threshold and ratio >= 0.5:
        return (f"embedding similarity {cosine:.2f} (string {ratio:.2f}) between "
                f"'{a.name}' and '{b.name}'", cosine)
    return None


def suggest_merges(
    records: Sequence[NameRecord],
    vectors: np.ndarray | None = None,
    *,
    string_threshold: float = 0.92,
    embed_threshold: float = 0.9,
    max_block: int = 300,
) -> list[MergeSuggestion]:
    """Alias merges among ``records`` (optionally with unit name vectors, row per record).

    Candidates come from blocks that share a word, a first character or an acronym; every
    suggestion merges the less-mentioned node into the more-mentioned one and never chains.
    """
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    out: list[MergeSuggestion] = []
    seen: set[tuple[int, int]] = set()
    for members in _blocks(records).values():
        if len(members) < 2 or len(members) > max_block:
            continue
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                if (i, j) in seen:
                    continue
                seen.add((i, j))
                ri, rj = root(i), root(j)
                if ri == rj:
                    continue
                cosine = float(vectors[i] @ vectors[j]) if vectors is not None else None
                found = _pair_reason(records[i], records[j], cosine, string_threshold,
                                     embed_threshold)
                if found is None:
                    continue
                keep, drop = sorted((ri, rj), key=lambda k: (-records[k].mentions, records[k].id))
                parent[drop] = keep
                out.append(MergeSuggestion(records[drop].id, records[keep].id, *found))
    # Re-point every suggestion at its final root so no merge targets an alias.
    index = {r.id: n for n, r in enumerate(records)}
    return [
        MergeSuggestion(s.node_id, records[root(index[s.into_id])].id, s.reason, s.score)
        for s in out
    ]
