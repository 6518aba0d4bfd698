"""Answer metrics against reference answers: exact match and token F1.

Normalisation is SQuAD's (lower case, no punctuation, no English articles, single spaces) plus
NFKC width folding; Chinese is compared character by character and everything else word by word,
as the CMRC 2018 evaluation does for mixed text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from zhiku.text.lang import CJK_RE

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]|[^\s\u3400-\u4dbf"
    r"\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+"
)


def _strip_punctuation(text: str) -> str:
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "S")))


def tokens(text: str) -> list[str]:
    """Normalised tokens: each CJK character alone, other runs split on white space."""
    text = _strip_punctuation(unicodedata.normalize("NFKC", text).lower())
    text = _ARTICLES.sub(" ", text)
    return _TOKEN.findall(text)


def normalize_answer(text: str) -> str:
    """The normalised answer string (tokens joined; no spaces between CJK characters)."""
    out = ""
    for tok in tokens(text):
        if out and not (CJK_RE.match(tok) or CJK_RE.match(out[-1])):
            out += " "
        out += tok
    return out


def exact_match(prediction: str, references: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised reference."""
    pred = normalize_answer(prediction)
    return 1.0 if any(pred == normalize_answer(ref) for ref in references) else 0.0


def _f1(pred: list[str], ref: list[str]) -> float:
    if not pred or not ref:
        return 1.0 if pred == ref else 0.0
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    p = common / len(pred)
    r = common / len(ref)
    return 2 * p * r / (p + r)


def token_f1(prediction: str, references: Sequence[str]) -> float:
    """Best token-overlap F1 of the prediction against any reference."""
    pred = tokens(prediction)
    return max((_f1(pred, tokens(ref)) for ref in references), default=0.0)


def contains_answer(prediction: str, references: Sequence[str]) -> float:
    """1.0 when a normalised reference occurs in the normalised prediction (an extractive
    answer quotes whole sentences, so exact match says little)."""
    pred = normalize_answer(prediction)
    return 1.0 if any((ref := normalize_answer(r)) and ref in pred for r in references) else 0.0


def token_recall(prediction: str, references: Sequence[str]) -> float:
    """The best share of a reference's tokens found in the prediction (how much of a short
    reference an extractive answer holds)."""
    pred = Counter(tokens(prediction))
    best = 0.0
    for ref in references:
        want = Counter(tokens(ref))
        if want:
            best = max(best, sum((pred & want).values()) / sum(want.values()))
    return best
