"""The accounts core's rules, as every face gets them: roles are granted only at or below one's
own, a workspace keeps an owner, keys are never wider than their maker, invitations follow the
same rules, and a removed member keeps no way in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from zhiku.accounts import joining, keys, members, signin, workspaces
from zhiku.accounts.bootstrap import bootstrap
from zhiku.accounts.principal import Level, Principal
from zhiku.accounts.store import AccountStore
from zhiku.accounts.throttle import LoginGuard
from zhiku.core.errors import Conflict, Forbidden, NotFound, Unauthorized

PASSWORD = "correct horse battery"


@dataclass
class Team:
    """One workspace with an owner, an admin, an editor and a viewer."""

    workspace_id: int
    ids: dict[str, int]
    sessions: dict[str, str]
    owner_key: str

    def caller(self, accounts: AccountStore, role: str) -> Principal:
        return accounts.authenticate(self.sessions[role])


@pytest.fixture
def team(accounts: AccountStore) -> Team:
    made = bootstrap(accounts.db, "owner@acme.example", PASSWORD, "acme", cost=accounts.cost)
    ids = {"owner": made.user_id}
    for role in ("admin", "editor", "viewer"):
        ids[role] = accounts.create_user(f"{role}@acme.example", PASSWORD)
        accounts.set_role(ids[role], made.workspace_id, role)
    sessions = {role: accounts.new_session(uid, made.workspace_id, 1.0)
                for role, uid in ids.items()}
    return Team(made.workspace_id, ids, sessions, made.key)


def test_roles_are_granted_only_at_or_below_ones_own(accounts: AccountStore, team: Team) -> None:
    admin = team.caller(accounts, "admin")
    assert members.change_role(accounts, admin, team.ids["viewer"], "editor").role == "editor"
    with pytest.raises(Forbidden, match="only an owner"):
        members.change_role(accounts, admin, team.ids["editor"], "owner")
    with pytest.raises(Forbidden, match="only an owner"):  # nor touch an owner
        members.change_role(accounts, admin, team.ids["owner"], "viewer")
    with pytest.raises(Forbidden, match="only an owner"):
        members.remove_member(accounts, admin, team.ids["owner"])
    editor = team.caller(accounts, "editor")
    with pytest.raises(Forbidden):
        members.change_role(accounts, editor, team.ids["viewer"], "viewer")
    with pytest.raises(Forbidden):
        members.list_members(accounts, editor)
    assert members.get_member(accounts, editor, team.ids["editor"]).role == "editor"  # oneself
    owner = team.caller(accounts, "owner")
    assert members.change_role(accounts, owner, team.ids["admin"], "owner").role == "owner"


def test_a_workspace_keeps_an_owner(accounts: AccountStore, team: Team) -> None:
    owner = team.caller(accounts, "owner")
    with pytest.raises(Conflict, match="at least one owner"):
        members.change_role(accounts, owner, team.ids["owner"], "admin")
    with pytest.raises(Conflict, match="at least one owner"):
        members.remove_member(accounts, owner, team.ids["owner"])
    members.change_role(accounts, owner, team.ids["admin"], "owner")
    members.change_role(accounts, owner, team.ids["owner"], "admin")  # another owner remains
    assert [m.role for m in members.list_members(accounts, owner)].count("owner") == 1


def test_a_removed_member_keeps_no_way_in(accounts: AccountStore, team: Team) -> None:
    admin = team.caller(accounts, "admin")
    made, secret = keys.create_key(accounts, admin, name="ci", access="read", kbs=None,
                                   assistants=None)
    members.remove_member(accounts, team.caller(accounts, "owner"), team.ids["admin"])
    with pytest.raises(Unauthorized):
        accounts.authenticate(team.sessions["admin"])
    with pytest.raises(Unauthorized, match="revoked"):
        accounts.authenticate(secret)
    with pytest.raises(NotFound):
        members.get_member(accounts, team.caller(accounts, "owner"), team.ids["admin"])
    assert accounts.get_key(team.workspace_id, made.id).revoked_at is not None


def test_keys_are_never_wider_than_their_maker(accounts: AccountStore, team: Team) -> None:
    admin = team.caller(accounts, "admin")
    _, scoped_secret = keys.create_key(accounts, admin, name="hr", access="admin", kbs=["hr"],
                                       assistants=None)
    scoped = accounts.authenticate(scoped_secret)
    with pytest.raises(Forbidden, match="no more access or scope"):
        keys.create_key(accounts, scoped, name="all", access="read", kbs=None, assistants=None)
    with pytest.raises(Forbidden, match="no more access or scope"):
        keys.create_key(accounts, scoped, name="more", access="read", kbs=["hr", "legal"],
                        assistants=None)
    narrower, _ = keys.create_key(accounts, scoped, name="hr-read", access="read", kbs=["hr"],
                                  assistants=None)
    assert {k.name for k in keys.list_keys(accounts, scoped)} == {"hr", "hr-read"}
    owner_key_id = accounts.authenticate(team.owner_key).key_id
    assert owner_key_id is not None
    with pytest.raises(NotFound):  # wider keys do not exist for it
        keys.get_key(accounts, scoped, owner_key_id)
    with pytest.raises(Forbidden, match="only an owner"):
        keys.revoke_key(accounts, admin, owner_key_id)
    assert keys.revoke_key(accounts, scoped, narrower.id).revoked_at is not None
    assert keys.revoke_key(accounts, scoped, scoped.key_id or 0).revoked_at is not None  # itself
    with pytest.raises(Forbidden):
        keys.list_keys(accounts, team.caller(accounts, "editor"))
    with pytest.raises(Forbidden):  # a scoped key cannot manage members
        members.list_members(accounts, scoped)


def test_invitations_follow_the_role_rules(accounts: AccountStore, team: Team) -> None:
    admin = team.caller(accounts, "admin")
    with pytest.raises(Forbidden, match="only an owner"):
        joining.invite(accounts, admin, "new@acme.example", "owner", 1.0)
    with pytest.raises(Conflict, match="already a member"):
        joining.invite(accounts, admin, "VIEWER@acme.example", "editor", 1.0)
    invitation, token = joining.invite(accounts, admin, "new@acme.example", "editor", 1.0)
    assert [i.email for i in joining.pending(accounts, admin)] == ["new@acme.example"]
    guard = LoginGuard(max_failures=5, max_failures_per_address=50, window_seconds=60,
                       hash_concurrency=2, hash_wait_seconds=5)
    with pytest.raises(Unauthorized, match="does not exist or has expired"):
        signin.signup(accounts, guard, "zki_nope", PASSWORD, "", address="a", hours=1.0)
    session = signin.signup(accounts, guard, token, PASSWORD, "New", address="a", hours=1.0)
    newcomer = accounts.authenticate(session)
    assert (newcomer.workspace_id, newcomer.level) == (team.workspace_id, Level.WRITE)
    with pytest.raises(Unauthorized):  # the token worked once
        signin.signup(accounts, guard, token, PASSWORD, "", address="a", hours=1.0)
    assert joining.pending(accounts, admin) == [] and invitation.role == "editor"


def test_an_invitee_accepts_into_a_second_workspace(accounts: AccountStore, team: Team) -> None:
    owner = team.caller(accounts, "owner")
    second = workspaces.create(accounts, owner, "法务部")
    assert (second.name, second.role) == ("法务部", "owner")
    with pytest.raises(Forbidden, match="user session"):  # keys cannot create workspaces
        workspaces.create(accounts, accounts.authenticate(team.owner_key), "other")
    there = accounts.authenticate(accounts.login("owner@acme.example", PASSWORD, "法务部", 1.0))
    invitation, _ = joining.invite(accounts, there, "viewer@acme.example", "admin", 1.0)
    viewer = team.caller(accounts, "viewer")
    assert [i.id for i in joining.addressed_to(accounts, viewer)] == [invitation.id]
    joined, role = joining.accept(accounts, viewer, invitation.id)
    assert (joined.workspace, role) == ("法务部", "admin")
    assert [(w.name, w.role) for w in workspaces.reachable(accounts, viewer)] == [
        ("acme", "viewer"), ("法务部", "admin")]
    with pytest.raises(NotFound):  # accepted once
        joining.accept(accounts, viewer, invitation.id)
