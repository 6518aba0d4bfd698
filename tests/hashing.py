"""argon2id at its cheapest for the tests' throwaway accounts: the default costs 64 MiB and a
tenth of a second or more a hash, hundreds of times a run. Tests of the cost set their own."""

from __future__ import annotations

from zhiku.accounts.secrets import HashCost

CHEAP_SETTINGS = {"password_hash_time_cost": 1, "password_hash_memory_kib": 1024,
                  "password_hash_parallelism": 1}
"""The ``Settings`` fields (``ZHIKU_PASSWORD_HASH_*``) every test environment gets."""
CHEAP = HashCost(1, 1024, 1)
"""The same cost, for stores a test builds by hand."""
