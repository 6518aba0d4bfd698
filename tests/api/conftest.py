"""Fixtures for the HTTP API: an app on a private home and two tenants with admin keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import Tenant, api_settings, make_tenant
from fastapi.testclient import TestClient

from zhiku.api.app import create_app
from zhiku.core.settings import Settings


@pytest.fixture
def settings(zhiku_home: Path) -> Settings:
    """API settings on the test's private home."""
    return api_settings(zhiku_home)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real ASGI app in-process, lifespan (and ingestion worker) running."""
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def tenant_a(settings: Settings, client: TestClient) -> Tenant:
    return make_tenant(settings, "acme")


@pytest.fixture
def tenant_b(settings: Settings, client: TestClient) -> Tenant:
    return make_tenant(settings, "globex")
