"""Fixtures for the app tests: a facade with the HR knowledge base, the scripted model server
as a provider, and one published app of each kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apps_support import hr, one_of_each, provider

from zhiku.core.settings import Settings
from zhiku.service import Zhiku


@pytest.fixture
def zk(zhiku_home: Path, scripted: Any) -> Iterator[Zhiku]:
    with Zhiku(Settings(home=zhiku_home, embedder="hashing")) as z:
        hr(z)
        provider(z, scripted.url)
        one_of_each(z)
        yield z
