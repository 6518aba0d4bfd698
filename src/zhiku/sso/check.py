"""Checking a single sign-on configuration from the server's shell before anyone signs in:
the OIDC provider's discovery document and keys, the LDAP service account's bind, and
optionally what the directory says about one person (without their password)."""

from __future__ import annotations

from dataclasses import dataclass, field

from zhiku.core.errors import ZhikuError
from zhiku.core.settings import Settings
from zhiku.sso import ldap
from zhiku.sso.mapping import parse_rules, roles_for
from zhiku.sso.oidc import OidcClient


@dataclass(slots=True)
class Finding:
    """One thing checked: what, whether it works, and what was seen."""

    what: str
    ok: bool
    detail: str
    extra: dict[str, object] = field(default_factory=dict)


def check(settings: Settings, login: str | None = None) -> list[Finding]:
    """Check every configured method (and the mapping); ``login``: look that person up in the
    directory and show their groups and the roles they would get."""
    findings: list[Finding] = []
    try:
        rules = parse_rules(settings.sso_role_mapping)
        findings.append(Finding("mapping", True, f"{len(rules)} group rule(s)"))
    except ZhikuError as exc:
        findings.append(Finding("mapping", False, exc.message))
        rules = {}
    client = OidcClient.of(settings)
    if client is not None:
        try:
            meta = client.metadata()
            keys = client.signing_keys()
            findings.append(Finding("oidc", True, f"{meta['issuer']}: "
                                    f"{len(keys.get('keys', []))} signing key(s)"))
        except ZhikuError as exc:
            findings.append(Finding("oidc", False, exc.message))
        finally:
            client.close()
    config = ldap.LdapConfig.from_settings(settings)
    if config is not None:
        try:
            found = ldap.look_up(config, login)
            detail = "the service account binds" if login is None else (
                f"{login}: {found.subject}" if found else f"{login}: no single entry")
            extra: dict[str, object] = {}
            if found is not None:
                extra = {"email": found.email, "groups": found.groups,
                         "roles": roles_for(rules, found.groups)}
            findings.append(Finding("ldap", login is None or found is not None, detail, extra))
        except ZhikuError as exc:
            findings.append(Finding("ldap", False, exc.message))
    if client is None and config is None:
        findings.append(Finding("sso", False, "neither ZHIKU_OIDC_ISSUER nor ZHIKU_LDAP_URL "
                                "is set"))
    return findings
