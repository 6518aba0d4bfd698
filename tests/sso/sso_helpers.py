"""Settings and accounts for the single sign-on tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ldap_server import SERVICE_DN, SERVICE_PASSWORD, Slapd
from oidc_provider import CLIENTS, Provider

from zhiku.accounts.bootstrap import Bootstrapped, bootstrap
from zhiku.core.settings import Settings
from zhiku.store.db import open_database

OWNER = ("owner@acme.example", "pw-acme-owner-secret")
MAPPING = {"zhiku-admins": "acme:admin", "staff": "acme:viewer", "contractors": "elsewhere:editor"}


def sso_settings(home: Path, **extra: Any) -> Settings:
    """Fast settings with the group mapping of the tests."""
    values: dict[str, Any] = {"home": home, "embedder": "hashing",
                              "api_rate_limit_per_minute": 0, "ocr": False,
                              "sso_role_mapping": MAPPING}
    values.update(extra)
    return Settings(**values)


def oidc_settings(home: Path, provider: Provider, **extra: Any) -> Settings:
    """Settings that sign in through the test provider as client ``zhiku``."""
    client = CLIENTS[0]
    return sso_settings(home, oidc_issuer=provider.issuer, oidc_client_id=client["client_id"],
                        oidc_client_secret=client["client_secret"],
                        oidc_scopes="openid email profile groups",
                        oidc_provider_name="Acme SSO", **extra)


def ldap_settings(home: Path, server: Slapd, **extra: Any) -> Settings:
    """Settings that sign in through the test directory (group search unless overridden)."""
    values: dict[str, Any] = {
        "ldap_url": server.url, "ldap_bind_dn": SERVICE_DN,
        "ldap_bind_password": SERVICE_PASSWORD, "ldap_user_base": server.users,
        "ldap_group_base": server.groups,
    }
    values.update(extra)
    return sso_settings(home, **values)


def make_owner(settings: Settings) -> Bootstrapped:
    """What ``zhiku admin init`` does: the instance owner of workspace ``acme``."""
    db = open_database(settings)
    try:
        return bootstrap(db, OWNER[0], OWNER[1], "acme", key_name="admin")
    finally:
        db.close()


def add_workspace(settings: Settings, name: str) -> None:
    """Another workspace, for people the mapping puts in several."""
    from zhiku.accounts.store import AccountStore

    db = open_database(settings)
    try:
        AccountStore(db).create_workspace(name)
    finally:
        db.close()
