"""argon2id's cost comes from the settings: the default is RFC 9106's second recommendation,
an operator may choose another, and a password hashed at any cost still signs in."""

from __future__ import annotations

import os
import subprocess

import pytest
from argon2 import extract_parameters

from serving import ZHIKU
from zhiku.accounts.secrets import DEFAULT_COST, HashCost, hash_password, verify_password
from zhiku.accounts.store import AccountStore
from zhiku.core.settings import Settings
from zhiku.store.db import open_database

PASSWORD = "correct horse battery"


def _params(stored: str) -> tuple[int, int, int]:
    p = extract_parameters(stored)
    return p.time_cost, p.memory_cost, p.parallelism


def test_the_default_is_rfc_9106s_second_recommendation() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert _params(stored) == (3, 65536, 4) == (
        DEFAULT_COST.time_cost, DEFAULT_COST.memory_kib, DEFAULT_COST.parallelism)
    fields = Settings.model_fields
    assert HashCost(fields["password_hash_time_cost"].default,
                    fields["password_hash_memory_kib"].default,
                    fields["password_hash_parallelism"].default) == DEFAULT_COST


def test_a_password_hashed_at_another_cost_still_signs_in(settings: Settings) -> None:
    db = open_database(settings)
    try:
        old = AccountStore(db, HashCost(2, 2048, 1))
        user = old.create_user("ada@acme.example", PASSWORD)
        stored = db.conn.execute("SELECT password_hash FROM users WHERE id = ?",
                                 (user,)).fetchone()[0]
        assert _params(stored) == (2, 2048, 1)
        new = AccountStore(db, HashCost(1, 1024, 1))
        assert new.verify("ada@acme.example", PASSWORD) == user
        assert verify_password(stored, PASSWORD) and not verify_password(stored, PASSWORD + "x")
    finally:
        db.close()


def test_the_settings_choose_the_cost_of_admin_init(settings: Settings) -> None:
    env = {**os.environ, "ZHIKU_PASSWORD_HASH_TIME_COST": "2",
           "ZHIKU_PASSWORD_HASH_MEMORY_KIB": "4096", "ZHIKU_PASSWORD_HASH_PARALLELISM": "2"}
    subprocess.run([ZHIKU, "admin", "init", "--email", "owner@acme.example",
                    "--password-stdin"], input=f"{PASSWORD}\n".encode(), env=env,
                   capture_output=True, check=True)
    db = open_database(settings)
    try:
        stored = db.conn.execute("SELECT password_hash FROM users").fetchone()[0]
    finally:
        db.close()
    assert _params(stored) == (2, 4096, 2)


@pytest.mark.parametrize("field, value", [("password_hash_time_cost", 0),
                                          ("password_hash_memory_kib", 512),
                                          ("password_hash_parallelism", 0)])
def test_a_cost_below_argon2s_floor_is_refused(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        Settings(**{field: value})
