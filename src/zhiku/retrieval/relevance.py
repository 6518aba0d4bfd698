"""Relevance signals that, unlike fused ranks, say whether a hit answers the query at all.

``relevance`` is what the answerers compare with ``min_relevance`` (0.3 by default) to answer
or refuse. It is the best of three signals, all on a 0..1 scale:

- **coverage**: the IDF-weighted share of the question's *content units* found in the passage.
  Question and function words (什么, 几天, 多少, what, how many…) are not units; a Chinese unit is
  a jieba word or a run of single characters (a name jieba did not know), matched whole or, when
  the passage was segmented differently, by the share of its own character bigrams — bigrams
  that straddle two words never count. A unit the index has never seen weighs as much as a term
  held by a single chunk: not more (a term no chunk holds is not rarer than that).
- **pairs**: two passages that together hold most of the question (a comparison of two people,
  a bridge between two articles) are each relevant, when each holds part of it on its own.
- **dense**: the cosine of the query and passage embeddings, rescaled per embedding model so
  that the cosine where passages start to answer lands on the threshold: a MiniLM cosine of
  0.3 means nothing (any passage on the same kind of topic reaches it).

Calibration points and the threshold were chosen on train splits (CMRC 2018 trial, HotpotQA
questions 0-249, SciFact train); docs/architecture.md says how.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from zhiku.text.questions import EN_QUESTION_WORDS, is_question_word
from zhiku.text.tokenize import (
    EN_STOPWORDS,
    analyze,
    cjk_words,
    fold_script,
    normalize,
)

_LATIN_RE = re.compile(r"[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")

# Both signals are rescaled (piecewise linearly, 0 and 1 fixed) so that the point where a
# passage starts to answer the question lands on ANSWER_POINT, the default ``min_relevance``.
ANSWER_POINT = 0.3
# Unit coverage where answering starts (CMRC 2018 trial, HotpotQA even-numbered questions).
COVERAGE_POINT = 0.5
# Two passages that each hold JOINT_MIN_OWN of the question and together JOINT_POINT of it
# answer it together (a comparison of two people, a bridge from one article to another).
JOINT_MIN_OWN = 0.25
JOINT_POINT = 0.7
# Cosine where answering starts, per embedding model id prefix (HotpotQA even-numbered
# questions for MiniLM; the others, untuned, sit where their on-topic non-answers top out).
DENSE_POINTS: dict[str, float] = {
    "all-MiniLM-L6-v2": 0.5,
    "use-multilingual-v3": 0.5,
    "hashing": 0.6,
}
DEFAULT_DENSE_POINT = 0.7


@dataclass(frozen=True, slots=True)
class Unit:
    """One content unit of a question: its index term and, for longer Chinese words or names,
    the character bigrams that stand for it when a passage is segmented differently."""

    term: str
    parts: tuple[str, ...] = ()

    def match(self, present: set[str] | frozenset[str]) -> float:
        """1 when the term itself is in the passage, else the share of its bigrams that are."""
        if self.term in present:
            return 1.0
        if not self.parts:
            return 0.0
        return sum(p in present for p in self.parts) / len(self.parts)


def _bigrams(word: str) -> tuple[str, ...]:
    return tuple(word[i : i + 2] for i in range(len(word) - 1)) if len(word) > 2 else ()


def _cjk_units(run: str) -> list[Unit]:
    units: list[Unit] = []
    singles: list[str] = []

    def flush() -> None:
        if len(singles) > 1:  # a run of single characters: a name or word jieba did not know
            name = "".join(singles)
            units.append(Unit(name, _bigrams(name)) if len(name) > 2 else Unit(name))
        singles.clear()

    for word in cjk_words(run):
        if is_question_word(word):
            flush()
        elif len(word) == 1:
            singles.append(word)
        else:
            flush()
            units.append(Unit(word, _bigrams(word)))
    flush()
    return units


def content_units(query: str) -> list[Unit]:
    """The question's content words and names, once each, in order (see the module doc), in
    Simplified script: match them against ``folded`` terms."""
    text = fold_script(normalize(query))
    units: list[Unit] = []
    pos = 0
    for m in _CJK_RUN_RE.finditer(text):
        units += _latin_units(text[pos : m.start()])
        units += _cjk_units(m.group())
        pos = m.end()
    units += _latin_units(text[pos:])
    return list({u.term: u for u in units}.values())


def _latin_units(text: str) -> list[Unit]:
    words = [w for w in _LATIN_RE.findall(text)
             if w not in EN_QUESTION_WORDS and w not in EN_STOPWORDS]
    if not words:
        return []
    return [Unit(t) for t in analyze(" ".join(words))]


def idf_weights(terms: Sequence[str], doc_freqs: Mapping[str, int], total: int) -> dict[str, float]:
    """BM25-style IDF per term seen in the index; unseen terms get the median of the others."""
    n = max(total, 1)
    seen = {
        t: math.log(1.0 + (n - doc_freqs[t] + 0.5) / (doc_freqs[t] + 0.5))
        for t in terms
        if doc_freqs.get(t, 0) > 0
    }
    fill = statistics.median(seen.values()) if seen else 1.0
    return {t: seen.get(t, fill) for t in terms}


def unit_weights(units: Sequence[Unit], doc_freqs: Mapping[str, int], total: int
                 ) -> dict[Unit, float]:
    """IDF per unit: its own term's when indexed, else its rarest bigram's; a unit the index
    has never seen weighs as much as a term held by one chunk (the rarest kind there is)."""
    n = max(total, 1)
    return {u: math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            for u, df in ((u, _unit_df(u, doc_freqs) or 1) for u in units)}


def _unit_df(unit: Unit, doc_freqs: Mapping[str, int]) -> int:
    return doc_freqs.get(unit.term, 0) or min(
        (doc_freqs[p] for p in unit.parts if doc_freqs.get(p, 0) > 0), default=0)


def coverage(chunk_terms: Iterable[str], weights: Mapping[str, float]) -> float:
    """Share of the IDF mass of ``weights``' terms that occur in the chunk (0..1)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    present = set(chunk_terms)
    return sum(w for t, w in weights.items() if t in present) / total


def _rescale(x: float, point: float) -> float:
    """Map 0..point..1 onto 0..ANSWER_POINT..1, linearly on each side; clipped to 0..1."""
    x = min(1.0, max(0.0, x))
    if x <= point:
        return ANSWER_POINT * x / point
    return ANSWER_POINT + (1.0 - ANSWER_POINT) * (x - point) / (1.0 - point)


def folded(terms: Iterable[str]) -> set[str]:
    """Distinct terms, Traditional characters folded to Simplified (as ``content_units``)."""
    return {t if t.isascii() else fold_script(t) for t in terms}


def unit_matches(chunk_terms: Iterable[str], units: Sequence[Unit]) -> tuple[float, ...]:
    """How much of each unit the chunk holds (see ``Unit.match``), in either script."""
    chinese = any(not u.term.isascii() for u in units)
    present = folded(chunk_terms) if chinese else set(chunk_terms)
    return tuple(u.match(present) for u in units)


def share(matches: Sequence[float], weights: Sequence[float]) -> float:
    """The weighted share of the units matched (0..1)."""
    total = sum(weights)
    return sum(m * w for m, w in zip(matches, weights, strict=True)) / total if total > 0 else 0.0


def pair_relevance(matches: Sequence[Sequence[float]], weights: Sequence[float]) -> list[float]:
    """Per passage, the relevance it reaches together with its best partner among the others
    (both holding JOINT_MIN_OWN of the question on their own), on the relevance scale."""
    own = [share(m, weights) for m in matches]
    out = [0.0] * len(matches)
    for i, a in enumerate(matches):
        if own[i] < JOINT_MIN_OWN:
            continue
        for j, b in enumerate(matches):
            if j != i and own[j] >= JOINT_MIN_OWN:
                joint = share([max(x, y) for x, y in zip(a, b, strict=True)], weights)
                out[i] = max(out[i], _rescale(joint, JOINT_POINT))
    return out


def calibrated_coverage(cov: float) -> float:
    """Unit coverage on the relevance scale (COVERAGE_POINT lands on ANSWER_POINT)."""
    return _rescale(cov, COVERAGE_POINT)


def calibrated_dense(cosine: float | None, model_id: str) -> float:
    """The cosine on the relevance scale, per model (see DENSE_POINTS)."""
    if cosine is None:
        return 0.0
    point = next((v for k, v in DENSE_POINTS.items() if model_id.startswith(k)),
                 DEFAULT_DENSE_POINT)
    return _rescale(cosine, point)
