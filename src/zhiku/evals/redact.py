"""Personal-data redaction for exported text: e-mail addresses, phone numbers, ID-card numbers.

Chinese resident ID numbers (18 characters: 17 digits and a check digit 0-9 or X) are replaced
only when their birth date and ISO 7064 MOD 11-2 check digit are valid, so ordinary long
numbers survive. Phones: Chinese mobiles (1[3-9] and 9 digits, optionally +86), and
international numbers written with a leading ``+`` or ``00`` country code.
"""

from __future__ import annotations

import re

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
ID_CARD = "[ID]"

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
_CN_MOBILE_RE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)"
)
_INTL_RE = re.compile(r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?!\d)")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def id_check_digit(first17: str) -> str:
    """The check character of a Chinese resident ID from its first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def valid_id_card(number: str) -> bool:
    """True for a well-formed 18-character resident ID: plausible birth date, right check digit."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= _DAYS[month - 1]):
        return False
    return id_check_digit(number[:17]) == number[17].upper()


def _id_sub(m: re.Match[str]) -> str:
    return ID_CARD if valid_id_card(m.group(1)) else m.group(0)


def _intl_sub(m: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in m.group(0))
    return PHONE if 8 <= digits <= 15 else m.group(0)


def redact(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers and valid ID numbers replaced by tags."""
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _ID_RE.sub(_id_sub, text)
    text = _CN_MOBILE_RE.sub(PHONE, text)
    return _INTL_RE.sub(_intl_sub, text)
