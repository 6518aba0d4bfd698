"""Fixtures for single sign-on: a real OIDC provider (oidc-provider on Node.js) and a real
OpenLDAP slapd, both on 127.0.0.1 and shared by the session's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ldap_server import SLAPD, Slapd, running_slapd
from oidc_provider import NODE, Provider, running_provider


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The provider, shared by the session's tests."""
    if NODE is None:
        pytest.skip("node is not installed: the OIDC tests run oidc-provider on Node.js")
    with running_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """The directory server, shared by the session's tests (they only read it)."""
    if SLAPD is None:
        pytest.skip("slapd is not installed: apt-get install -y slapd ldap-utils")
    with running_slapd(tmp_path_factory.mktemp("slapd")) as server:
        yield server
