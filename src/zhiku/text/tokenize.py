"""The keyword analyzer shared by indexing and querying, on every backend.

Chinese runs are segmented with jieba (rjieba, the Rust port) *and* cut into character bigrams:
words give precision, bigrams recall when segmentation differs between question and passage.
Latin text is split on Unicode word boundaries, lower-cased, stop words dropped and stemmed
(Snowball English, through PyStemmer's compiled libstemmer). Width and compatibility forms are
folded with NFKC first, and Traditional characters to Simplified ones (opencc's character table),
so both scripts are indexed and searched under the same terms and jieba segments Traditional text
with its Simplified dictionary. ``ANALYZER_VERSION`` names this analysis: indexes written by an
earlier one are brought up to date by ``Zhiku.reanalyze`` (``zhiku kb reanalyze``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

import Stemmer

from zhiku.text.lang import CJK_RE

_RUN_RE = re.compile(
    r"(?P<cjk>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+)|(?P<word>[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+)"
)
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
# every pair of adjacent Chinese characters (overlapping: a lookahead captures each)
_CJK_BIGRAM_RE = re.compile(
    r"(?=([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]{2}))"
)
_ASTRAL_RE = re.compile(r"[\U00010000-\U0010ffff]")
_STEM = Stemmer.Stemmer("english")  # Snowball English, compiled: the same stems as the Python port
_STEM_LOCK = threading.Lock()

ANALYZER_VERSION = 2  # 1: no script folding; 2: Traditional folded to Simplified

EN_STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have he her his
    how i if in into is it its may might more most no not of on or our she should so such than that
    the their them then there these they this those to was we were what when where which while who
    whom why will with would you your also been being both each few any all other some own same
    very s t just don now over under again further once here only too out up down off above below
    between through during before after about against am""".split()
)
ZH_STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 就 都 而 也 把 被 让 给 对 从 "
    "向 以 之 其 这 那 有 个 着 过 吗 呢 吧 啊 "
    "么 什么 哪些 怎么 如何 为什么 是否 一个 我们 你们 他们 它们 我 你 他 她 它".split()
)


@cache
def _jieba_cut() -> Callable[[str], list[str]]:
    """jieba's segmenter, loaded (dictionary and all, ~0.2 s) when Chinese text first appears."""
    import rjieba

    return rjieba.cut


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    with _STEM_LOCK:  # a Snowball stemmer object is not thread-safe
        return str(_STEM.stemWord(word))


@lru_cache(maxsize=200_000)
def _latin_tokens(word: str) -> tuple[str, ...]:
    if word in EN_STOPWORDS:
        return ()
    if word.isascii() and word.isalpha():
        return (_stem(word) if len(word) > 3 else word,)
    return (word,)


def cjk_words(run: str) -> list[str]:
    """jieba's segmentation of a run of Chinese characters."""
    return list(_jieba_cut()(run))


def _content_words(runs: list[str]) -> list[list[str]]:
    """The jieba words (longer than one character, not stop words) of each run of two
    Chinese characters or more, from one jieba call: the runs joined by spaces, which jieba
    segments as separate blocks and returns as ``" "`` tokens between their words."""
    if not runs:
        return []
    cut = _jieba_cut()
    out: list[list[str]] = [[]]
    words = out[0]
    for token in cut(" ".join(runs)):
        if token == " ":
            words = []
            out.append(words)
        elif len(token) > 1 and token not in ZH_STOPWORDS:
            words.append(token)
    if len(out) != len(runs):  # never seen; one call per run is always right
        return [[w for w in cut(r) if len(w) > 1 and w not in ZH_STOPWORDS] for r in runs]
    return out


def normalize(text: str) -> str:
    """NFKC (full-width → half-width) and lower case.

    Compatibility characters of the Basic Multilingual Plane (full-width punctuation, which
    Chinese text is full of) are first replaced by their decompositions with one translate;
    NFKC itself then runs only when that left something to compose or decompose. The result
    is NFKC's: NFKC decomposes every character the same way before it composes."""
    if text.isascii():  # NFKC leaves ASCII as it is
        return text.lower()
    decomposed = text.translate(_compat_table())
    if unicodedata.is_normalized("NFKC", decomposed):
        return decomposed.lower()
    return unicodedata.normalize("NFKC", decomposed).lower()


@cache
def _compat_table() -> list[int | str]:
    """A translate table over the Basic Multilingual Plane: each character with a
    compatibility decomposition to its full NFKD form, every other one to itself."""
    table: list[int | str] = list(range(0x10000))
    for code in range(0x10000):
        char = chr(code)
        if unicodedata.decomposition(char).startswith("<"):
            table[code] = unicodedata.normalize("NFKD", char)
    return table


def analyze(text: str) -> list[str]:
    """Index terms for ``text``, in order, with repeats (term frequency matters to BM25)."""
    return list(_analyze(text))


@lru_cache(maxsize=1024)
def _analyze(text: str) -> tuple[str, ...]:
    # Cached: ingestion analyzes each chunk for the full-text index and, moments later, the
    # embedding stage may analyze the same text again (the hashing embedder); queries repeat.
    return _terms(_normalize_folded(text))


def _normalize_folded(text: str) -> str:
    """``fold_script(normalize(text))``, with one translate for both where that gives the same.

    ``_compat_fold_table`` decomposes compatibility characters and folds Traditional
    ideographs at once. When its result needs no NFKC, neither did that of the decomposition
    alone: the two differ only in CJK unified ideographs, which NFKC never changes nor
    combines with a neighbour (and lower-casing leaves alone)."""
    if not text.isascii():
        once = text.translate(_compat_fold_table())
        if unicodedata.is_normalized("NFKC", once):
            once = once.lower()
            return once.translate(_fold_tables()[1]) if _ASTRAL_RE.search(once) else once
    return fold_script(normalize(text))


@cache
def _compat_fold_table() -> list[int | str]:
    """``_compat_table`` with the Basic Multilingual Plane's Traditional → Simplified folding
    applied to what it gives (only where both sides are CJK unified ideographs)."""
    bmp, _ = _fold_tables()

    def fold(code: int) -> int:
        target = bmp[code]
        if target == code:
            return code
        return target if _is_unified_ideograph(code) and _is_unified_ideograph(target) else code

    table: list[int | str] = []
    for value in _compat_table():
        if isinstance(value, str):
            table.append("".join(chr(fold(ord(c))) if ord(c) < 0x10000 else c for c in value))
        else:
            table.append(fold(value))
    return table


def _is_unified_ideograph(code: int) -> bool:
    return unicodedata.name(chr(code), "").startswith("CJK UNIFIED IDEOGRAPH")


def forget_texts() -> None:
    """Drop the cached analyses of whole texts (an ingestion run's chunks are not asked for
    again); the per-word caches stay."""
    _analyze.cache_clear()
    script_variants.cache_clear()


def _terms(normalized: str) -> tuple[str, ...]:
    """Each run's terms in text order: a Chinese run's jieba words, then its character
    bigrams (one jieba call and one bigram scan for the whole text; a lone character is its
    own term unless a stop word); a Latin word's stem, unless a stop word."""
    pieces = _RUN_RE.findall(normalized)
    words = iter(_content_words([cjk for cjk, _ in pieces if len(cjk) > 1]))
    bigrams = _CJK_BIGRAM_RE.findall(normalized)  # the bigrams of every run, in order
    at = 0
    out: list[str] = []
    extend = out.extend
    for cjk, word in pieces:
        if not cjk:
            extend(_latin_tokens(word))
        elif len(cjk) == 1:
            if cjk not in ZH_STOPWORDS:
                out.append(cjk)
        else:
            extend(next(words))
            end = at + len(cjk) - 1
            extend(bigrams[at:end])
            at = end
    return tuple(out)


def needs_reanalysis(text: str) -> bool:
    """True when an index written before script folding holds other terms for ``text`` (it
    has Traditional characters)."""
    normalized = normalize(text)
    return fold_script(normalized) != normalized


@cache
def _t2s_table() -> dict[int, str]:
    """Traditional → Simplified, one character for one (opencc's character table, first
    candidate): a str.translate table, built once, that folds terms in microseconds."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        trad, _, simp = line.partition("\t")
        first = simp.split(" ")[0] if simp else ""
        if len(trad) == 1 and len(first) == 1:
            table[ord(trad)] = first
    return table


@cache
def _fold_tables() -> tuple[list[int], dict[int, str]]:
    """``_t2s_table`` as a list over the Basic Multilingual Plane (every code point, most
    mapped to themselves: translating through it never misses, twice as fast as the dict) and
    a dict of the characters above it."""
    bmp = list(range(0x10000))
    astral: dict[int, str] = {}
    for code, simplified in _t2s_table().items():
        if code < 0x10000:
            bmp[code] = ord(simplified)
        else:
            astral[code] = simplified
    return bmp, astral


def fold_script(text: str) -> str:
    """``text`` with Traditional characters folded to Simplified (character by character)."""
    bmp, astral = _fold_tables()
    folded = text.translate(bmp)
    return folded.translate(astral) if _ASTRAL_RE.search(folded) else folded


@cache
def _s2t() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("s2t").convert  # phrase-aware: 头发 → 頭髮, 发展 → 發展


@lru_cache(maxsize=1024)
def script_variants(text: str) -> tuple[str, ...]:
    """The Simplified and Traditional forms of a Chinese query other than itself."""
    if not has_cjk(text):
        return ()
    simplified = fold_script(text)
    forms = dict.fromkeys((simplified, _s2t()(simplified)))
    return tuple(f for f in forms if f != text)


def query_terms(text: str) -> list[str]:
    """Distinct terms of a query, in first-seen order: its analyzed (folded) terms, then the
    unfolded terms of the query and of its Traditional form, as an index analyzed before
    script folding holds them, so such an index still finds either script until it is
    re-analyzed. Terms that no chunk holds drop out of the search (``specific_terms``).

    Character bigrams that touch a question or function word (什么 → 是什, 什么; 哪年成立 →
    年成) are left out: they say nothing about what is asked, yet weigh like content (a bigram
    such as 业是 is common in every paragraph that states what someone is). Chosen on CMRC 2018
    trial (keyword R@1 0.970 → 0.976)."""
    terms = analyze(text)
    if not has_cjk(text):
        return list(dict.fromkeys(terms))
    terms.extend(_terms(normalize(text)))
    folded = fold_script(normalize(text))
    for variant in script_variants(text):
        if variant != fold_script(text):
            terms.extend(_terms(normalize(variant)))
    distinct = list(dict.fromkeys(terms))
    framing = _framing_bigrams(folded)
    kept = [t for t in distinct if fold_script(t) not in framing]
    return kept or distinct  # a query of nothing but such words (哪吒 looks like one) keeps them


def _framing_bigrams(folded: str) -> frozenset[str]:
    """Bigrams of a (normalized, folded) query that overlap a question or function word and
    are not a content word of it themselves."""
    from zhiku.text.questions import is_question_word  # it imports this module

    framing: set[str] = set()
    content: set[str] = set()
    for run in _CJK_RUN_RE.findall(folded):
        marks: list[bool] = []
        for word in _jieba_cut()(run):
            question = is_question_word(word)
            marks += [question] * len(word)
            if not question and len(word) > 1:
                content.add(word)
        framing.update(run[i : i + 2] for i in range(len(run) - 1) if marks[i] or marks[i + 1])
    return frozenset(framing - content)


def has_cjk(text: str) -> bool:
    """True when ``text`` holds at least one CJK ideograph."""
    return CJK_RE.search(text) is not None
