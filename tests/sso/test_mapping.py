"""The group mapping: rules parsed from settings, the highest role winning, ``*`` for all."""

from __future__ import annotations

import pytest

from zhiku.core.errors import InvalidInput
from zhiku.sso.mapping import parse_rules, roles_for


def test_the_highest_role_of_any_group_wins() -> None:
    rules = parse_rules({"staff": "acme:viewer", "admins": ["acme:admin", "ops:editor"],
                         "*": "lobby:viewer"})
    assert roles_for(rules, ["staff"]) == {"acme": "viewer", "lobby": "viewer"}
    assert roles_for(rules, ["admins", "staff"]) == {"acme": "admin", "ops": "editor",
                                                     "lobby": "viewer"}
    assert roles_for(rules, []) == {"lobby": "viewer"}


def test_a_workspace_name_may_hold_a_colon() -> None:
    assert parse_rules({"g": "a:b:owner"}) == {"g": [("a:b", "owner")]}


@pytest.mark.parametrize("target", ["acme", "acme:boss", ":admin"])
def test_a_malformed_target_is_named(target: str) -> None:
    with pytest.raises(InvalidInput, match="ZHIKU_SSO_ROLE_MAPPING"):
        parse_rules({"g": target})
