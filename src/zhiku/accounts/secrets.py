"""Password hashing (argon2id) and bearer secrets (API keys, session tokens).

Passwords are low-entropy and chosen by people, so they get a slow, salted, memory-hard hash.
API keys and session tokens are 256-bit random strings: nobody can brute-force a preimage of
their SHA-256, so a fast hash is as safe here and keeps checking a key to microseconds on every
request (argon2 would add tens of milliseconds to each call).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from zhiku.core.settings import Settings

KEY_PREFIX = "zk"
SESSION_PREFIX = "zks"
INVITATION_PREFIX = "zki"


@dataclass(frozen=True, slots=True)
class HashCost:
    """argon2id's parameters for new password hashes. A stored hash carries its own, so a
    password hashed at another cost still verifies. The default is RFC 9106's second
    recommendation: 3 passes over 64 MiB with 4 lanes."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4

    @classmethod
    def of(cls, settings: Settings) -> HashCost:
        """The cost the settings choose (``ZHIKU_PASSWORD_HASH_*``)."""
        return cls(settings.password_hash_time_cost, settings.password_hash_memory_kib,
                   settings.password_hash_parallelism)


DEFAULT_COST = HashCost()


@lru_cache(maxsize=8)
def _hasher(cost: HashCost) -> PasswordHasher:
    return PasswordHasher(time_cost=cost.time_cost, memory_cost=cost.memory_kib,
                          parallelism=cost.parallelism)


def hash_password(password: str, cost: HashCost = DEFAULT_COST) -> str:
    """An argon2id hash of ``password`` (salt and parameters included)."""
    return _hasher(cost).hash(password)


@lru_cache(maxsize=8)
def dummy_hash(cost: HashCost = DEFAULT_COST) -> str:
    """A hash of nothing anyone knows, at ``cost``: verified against for unknown e-mails, so
    that both answers cost the same single verify (computed once, before the first sign-in)."""
    return hash_password(secrets.token_urlsafe(32), cost)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored argon2 hash (at the cost it was made with)."""
    try:
        return _hasher(DEFAULT_COST).verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def sha256(secret: str) -> str:
    """Hex SHA-256 of a high-entropy secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def new_api_key() -> tuple[str, str]:
    """``(prefix, key)``: the key is ``zk_<prefix>_<secret>``, the prefix finds it in the table."""
    prefix = secrets.token_hex(6)
    return prefix, f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def split_api_key(key: str) -> str | None:
    """The prefix of an API key, or None when ``key`` is not shaped like one."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


def new_session_token() -> str:
    """A random session bearer token."""
    return f"{SESSION_PREFIX}_{secrets.token_urlsafe(32)}"


def new_invitation_token() -> str:
    """A random one-time invitation token."""
    return f"{INVITATION_PREFIX}_{secrets.token_urlsafe(32)}"
