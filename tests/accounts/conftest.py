"""Fixtures for the accounts core: its store on the test's database (SQLite, or PostgreSQL with
``ZHIKU_TEST_BACKEND=postgres``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zhiku.accounts.secrets import HashCost
from zhiku.accounts.store import AccountStore
from zhiku.core.settings import Settings
from zhiku.store.db import open_database


@pytest.fixture
def accounts(settings: Settings) -> Iterator[AccountStore]:
    """The account store over a fresh, migrated database."""
    db = open_database(settings)
    try:
        yield AccountStore(db, HashCost.of(settings))
    finally:
        db.close()
