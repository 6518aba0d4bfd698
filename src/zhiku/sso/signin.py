"""Signing in through a directory (OIDC or LDAP): link the directory account to a user, give
them the roles the group mapping grants, and open the same session a password sign-in opens.
Every attempt, successful or not, goes to the audit log."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from zhiku.accounts import signin
from zhiku.accounts.errors import ChooseWorkspace
from zhiku.accounts.records import Workspace
from zhiku.accounts.store import AccountStore
from zhiku.core.errors import Forbidden, ZhikuError
from zhiku.sso.identities import DirectoryAccount, link
from zhiku.sso.ldap import WrongPassword
from zhiku.sso.mapping import roles_for

Rules = Mapping[str, list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One directory sign-in: how, from where, and what the client asked for."""

    method: str  # "oidc" or "ldap"
    address: str
    hours: float
    login_hint: str = ""  # what the user typed, for the audit log when the directory refuses
    choose: bool = False  # several workspaces and none named: ChooseWorkspace (else the first)


def sign_in(
    store: AccountStore,
    who: Callable[[], tuple[DirectoryAccount, str | None]],
    rules: Rules,
    attempt: Attempt,
    guard: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> str:
    """A session token for the account ``who()`` returns with the workspace asked for (it
    talks to the directory, inside ``guard``, the sign-in throttle for passwords)."""
    account: DirectoryAccount | None = None
    workspace: str | None = None
    try:
        with guard():
            account, workspace = who()
        user_id, created = link(store.db, account)
        granted = _apply_roles(store, user_id, account, rules)
        chosen = _choose(store.user_workspaces(user_id), account, granted, workspace,
                         attempt.choose)
        token = store.new_session(user_id, chosen.id, attempt.hours)
    except ChooseWorkspace:
        raise  # the directory accepted the user: the client asks again with a workspace
    except ZhikuError as exc:
        email = account.email if account else attempt.login_hint
        if isinstance(exc, WrongPassword):
            email = exc.email
        signin.record_failure(store, "auth.login", email, workspace, attempt.address, exc,
                              detail={"method": attempt.method})
        raise
    signin.record_success(store, "auth.login", token, account.email, attempt.address,
                          detail={"method": attempt.method, "new_account": created,
                                  "provider": account.provider})
    return token


def _choose(spaces: list[Workspace], account: DirectoryAccount, granted: dict[str, str],
            workspace: str | None, choose: bool) -> Workspace:
    if not spaces:
        raise Forbidden(
            "your directory account is not mapped to any workspace: ask an administrator to "
            "map one of your groups in ZHIKU_SSO_ROLE_MAPPING, or to invite you",
            groups=account.groups,
        )
    if workspace is not None:
        named = [w for w in spaces if w.name == workspace]
        if not named:
            raise Forbidden(f"your account is not a member of workspace '{workspace}'")
        return named[0]
    if len(spaces) > 1 and choose:
        raise ChooseWorkspace("choose a workspace", workspaces=[w.name for w in spaces])
    return ([w for w in spaces if w.name in granted] or spaces)[0]


def _apply_roles(store: AccountStore, user_id: int, account: DirectoryAccount,
                 rules: Rules) -> dict[str, str]:
    """Give the user the mapped role in each existing workspace the mapping names (there the
    directory decides the role); return what was granted."""
    granted: dict[str, str] = {}
    for name, role in roles_for(rules, account.groups).items():
        workspace_id = store.workspace_id(name)
        if workspace_id is None:
            continue  # a rule for a workspace not made yet grants nothing
        granted[name] = role
        before = store.role_of(workspace_id, user_id)
        if before != role:
            store.set_role(user_id, workspace_id, role)
            store.audit(workspace_id)(
                "member.role" if before else "member.join", "user", user_id, account.email,
                detail={"role": role, "previous": before, "directory": account.provider})
    return granted
