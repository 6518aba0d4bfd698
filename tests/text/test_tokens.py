"""The token-count estimate: one per CJK character or punctuation mark, one per Latin run and
one more per five letters past its first; whitespace and '_' count nothing."""

from __future__ import annotations

import random

from zhiku.text.tokens import _LATIN_RUN_RE, _PIECE_RE, count_tokens


def _by_pieces(text: str) -> int:
    total = 0
    for piece in _PIECE_RE.findall(text):
        latin = _LATIN_RUN_RE.fullmatch(piece) is not None
        total += 1 + (len(piece) - 1) // 5 if latin else 1
    return total


def test_count_is_the_sum_over_pieces() -> None:
    assert count_tokens("") == 0
    assert count_tokens("报销流程") == 4
    assert count_tokens("hello, world") == 3
    assert count_tokens("internationalisation") == 1 + 19 // 5
    pool = "ab_ \t\n\r\f\v\u3000\u00a0\u2028\x1c\x85中文，。!x1２é\u0301𠀀"
    rng = random.Random(7)
    texts = ["".join(rng.choice(pool) for _ in range(rng.randrange(0, 50))) for _ in range(3000)]
    texts += ["据新华社报道，国务院总理李克强12日主持召开会议。", "snake_case and   spaces\n\nok"]
    for text in texts:
        assert count_tokens(text) == _by_pieces(text), repr(text)
