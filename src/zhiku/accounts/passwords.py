"""What a new password must be: long enough, not trivially guessable, not the e-mail."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from zhiku.core.errors import InvalidInput

MIN_LENGTH = 10
MIN_DISTINCT = 4
_TRAILING = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    text = resources.files("zhiku.accounts").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password(password: str, email: str = "") -> None:
    """Raise ``InvalidInput`` saying what is wrong with ``password`` as a new password."""
    if not password.strip():
        raise InvalidInput("a password cannot be empty or only spaces")
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT:
        raise InvalidInput(
            f"a password needs at least {MIN_DISTINCT} different characters, not one repeated"
        )
    lowered = password.lower()
    if email and lowered in {email.lower(), email.lower().split("@")[0]}:
        raise InvalidInput("a password cannot be the e-mail address")
    if lowered in _common() or _TRAILING.sub("", lowered) in _common():
        raise InvalidInput("that password is one of the most common ones; choose another")
