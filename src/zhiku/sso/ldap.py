"""LDAP and Active Directory sign-in: find the user's entry with the service account, bind as
that entry with the password typed, and read the user's groups (``memberOf``, or a search of
group entries naming the user as a member)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zhiku.accounts.errors import BadCredentials
from zhiku.core.errors import InvalidInput, MissingDependency, ProviderError
from zhiku.core.settings import Settings
from zhiku.sso.identities import DirectoryAccount


@dataclass(frozen=True, slots=True)
class LdapConfig:
    """The directory server and where its users and groups live."""

    url: str
    bind_dn: str | None = None
    bind_password: str | None = None
    user_base: str = ""
    user_filter: str = "(|(uid={login})(mail={login}))"
    email_attribute: str = "mail"
    name_attribute: str = "cn"
    group_base: str | None = None
    group_filter: str = "(&(objectClass=groupOfNames)(member={dn}))"
    start_tls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LdapConfig | None:
        """The configuration, or None when directory sign-in is not set up."""
        if not settings.ldap_url:
            return None
        secret = settings.ldap_bind_password
        return cls(
            url=settings.ldap_url, bind_dn=settings.ldap_bind_dn,
            bind_password=secret.get_secret_value() if secret else None,
            user_base=settings.ldap_user_base, user_filter=settings.ldap_user_filter,
            email_attribute=settings.ldap_email_attribute,
            name_attribute=settings.ldap_name_attribute, group_base=settings.ldap_group_base,
            group_filter=settings.ldap_group_filter, start_tls=settings.ldap_start_tls,
            timeout=settings.ldap_timeout_seconds,
        )

    @property
    def provider(self) -> str:
        """The provider name directory identities are recorded under."""
        return "ldap:" + self.url


class WrongPassword(BadCredentials):
    """A directory entry was found but the password did not bind; ``email`` names its account
    for the audit log (never the client: the answer is the same as for an unknown login)."""

    def __init__(self, email: str) -> None:
        super().__init__("wrong user name or password")
        self.email = email


def _ldap3() -> Any:
    try:
        import ldap3
    except ImportError as exc:
        raise MissingDependency("directory sign-in needs pip install 'zhiku[sso]'") from exc
    return ldap3


def authenticate(config: LdapConfig, login: str, password: str) -> DirectoryAccount:
    """The directory account of ``login`` when ``password`` binds as its entry; else
    ``Unauthorized`` (the same for an unknown login and a wrong password)."""
    if not login or not password:  # an empty password is an anonymous bind: never a sign-in
        raise BadCredentials("wrong user name or password")
    ldap3 = _ldap3()
    from ldap3.core.exceptions import LDAPException
    from ldap3.utils.conv import escape_filter_chars

    server = ldap3.Server(config.url, connect_timeout=config.timeout)
    try:
        service = _bind(ldap3, server, config, config.bind_dn, config.bind_password)
        try:
            entry = _find_user(ldap3, service, config, escape_filter_chars(login))
            if entry is None:
                raise BadCredentials("wrong user name or password")
            email = _first(entry["attributes"].get(config.email_attribute))
            user = _bind(ldap3, server, config, entry["dn"], password, refused_email=email)
            user.unbind()
            groups = _groups(ldap3, service, config, entry, escape_filter_chars(entry["dn"]))
        finally:
            service.unbind()
    except LDAPException as exc:
        raise ProviderError(f"the directory server failed: {exc}") from exc
    attributes = entry["attributes"]
    email = _first(attributes.get(config.email_attribute))
    if not email:
        raise InvalidInput(
            f"the directory entry has no {config.email_attribute} attribute (an e-mail)"
        )
    return DirectoryAccount(
        provider=config.provider, subject=str(entry["dn"]), email=email,
        name=_first(attributes.get(config.name_attribute)), groups=groups,
    )


def look_up(config: LdapConfig, login: str | None) -> DirectoryAccount | None:
    """Bind as the service account and, given ``login``, find that person's entry and groups
    (no password: for checking a configuration). None when no single entry matches."""
    ldap3 = _ldap3()
    from ldap3.core.exceptions import LDAPException
    from ldap3.utils.conv import escape_filter_chars

    server = ldap3.Server(config.url, connect_timeout=config.timeout)
    try:
        service = _bind(ldap3, server, config, config.bind_dn, config.bind_password)
        try:
            if login is None:
                return None
            entry = _find_user(ldap3, service, config, escape_filter_chars(login))
            if entry is None:
                return None
            groups = _groups(ldap3, service, config, entry, escape_filter_chars(entry["dn"]))
        finally:
            service.unbind()
    except LDAPException as exc:
        raise ProviderError(f"the directory server failed: {exc}") from exc
    attributes = entry["attributes"]
    return DirectoryAccount(
        provider=config.provider, subject=str(entry["dn"]),
        email=_first(attributes.get(config.email_attribute)),
        name=_first(attributes.get(config.name_attribute)), groups=groups,
    )


def _bind(ldap3: Any, server: Any, config: LdapConfig, dn: str | None, password: str | None,
          *, refused_email: str | None = None) -> Any:
    """A bound connection; a user's refused bind (``refused_email`` set) is ``WrongPassword``,
    the service account's a ``ProviderError``."""
    conn = ldap3.Connection(server, user=dn, password=password, read_only=True,
                            receive_timeout=max(1, round(config.timeout)))
    if config.start_tls:
        conn.open()
        if not conn.start_tls():
            raise ProviderError(f"StartTLS with {config.url} failed: {conn.result}")
    if not conn.bind():
        conn.unbind()
        if refused_email is not None:
            raise WrongPassword(refused_email)
        raise ProviderError(
            f"the directory service account could not bind: {conn.result.get('description')}"
        )
    return conn


def _find_user(ldap3: Any, conn: Any, config: LdapConfig, login: str) -> dict[str, Any] | None:
    conn.search(config.user_base, config.user_filter.replace("{login}", login),
                search_scope=ldap3.SUBTREE, size_limit=2,
                attributes=[config.email_attribute, config.name_attribute, "memberOf"])
    entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
    # two entries for one login is ambiguous: signing in as either would be a guess
    return entries[0] if len(entries) == 1 else None


def _groups(ldap3: Any, conn: Any, config: LdapConfig, entry: dict[str, Any],
            dn: str) -> list[str]:
    """Group DNs and their CNs, so rules may name either."""
    if config.group_base is None:
        names = [str(g) for g in entry["attributes"].get("memberOf") or []]
    else:
        conn.search(config.group_base, config.group_filter.replace("{dn}", dn),
                    search_scope=ldap3.SUBTREE, attributes=["cn"])
        names = [str(e["dn"]) for e in conn.response or [] if e.get("type") == "searchResEntry"]
    groups: set[str] = set()
    for name in names:
        groups.add(name)
        first = name.split(",", 1)[0]
        if first.lower().startswith("cn="):
            groups.add(first[3:])
    return sorted(groups)


def _first(value: object) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)
