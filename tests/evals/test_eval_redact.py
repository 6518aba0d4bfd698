"""Redaction of e-mail addresses, phone numbers and (valid) Chinese ID-card numbers."""

from __future__ import annotations

import pytest

from zhiku.evals.redact import id_check_digit, redact, valid_id_card


@pytest.mark.parametrize(("text", "expected"), [
    ("mail hr@example.com now", "mail [EMAIL] now"),
    ("联系 zhang.san+hr@corp.example.co.uk。", "联系 [EMAIL]。"),
    ("call 13812345678 now", "call [PHONE] now"),
    ("电话：138-1234-5678。", "电话：[PHONE]。"),
    ("手机 +86 138 1234 5678", "手机 [PHONE]"),
    ("tel +1 (415) 555-2671.", "tel [PHONE]."),
    ("London +44 20 7946 0958", "London [PHONE]"),
    ("0044 20 7946 0958", "[PHONE]"),
    ("身份证 11010519491231002X 已核验", "身份证 [ID] 已核验"),
    ("ID 110101199003074514", "ID [ID]"),
])
def test_redacts(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "2023-08-16 18:24:57",
    "version 1.2.0, build 20230816",
    "12345678901",  # 11 digits but not a mobile prefix
    "订单号 123456789012345678",  # 18 digits, wrong check digit
    "110101199003074515",  # right shape, wrong check digit
    "110101199013074514",  # month 13
    "11010119900307451X",  # X where the check digit is 4
    "price 13800000000000",  # a mobile prefix inside a longer number
    "ratio +1.5 and +2",
    "user@localhost",
])
def test_leaves_alone(text: str) -> None:
    assert redact(text) == text


def test_check_digit() -> None:
    # ISO 7064 MOD 11-2 with GB 11643 weights, computed by hand for 11010519491231002:
    # sum of digit × weight = 167, 167 mod 11 = 2 → "X".
    assert id_check_digit("11010519491231002") == "X"
    assert id_check_digit("11010119900307451") == "4"
    assert valid_id_card("11010519491231002x")  # lower-case x is accepted
    assert not valid_id_card("1101051949123100")
