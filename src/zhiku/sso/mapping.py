"""Directory groups to workspace roles: the rules of ``ZHIKU_SSO_ROLE_MAPPING``, pure logic.

A rule maps a group to ``workspace:role`` (or a list of them); the group ``*`` matches every
user. Where several rules grant roles in one workspace, the highest wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from zhiku.core.errors import InvalidInput

ROLES = ("viewer", "editor", "admin", "owner")
EVERYONE = "*"


def parse_rules(raw: Mapping[str, str | list[str]]) -> dict[str, list[tuple[str, str]]]:
    """The rules as group -> [(workspace, role)]; ``InvalidInput`` names a malformed target."""
    rules: dict[str, list[tuple[str, str]]] = {}
    for group, targets in raw.items():
        for target in [targets] if isinstance(targets, str) else targets:
            workspace, sep, role = target.rpartition(":")
            if not sep or not workspace or role not in ROLES:
                raise InvalidInput(
                    f"ZHIKU_SSO_ROLE_MAPPING: '{group}' maps to '{target}'; write "
                    f"workspace:role with a role of {', '.join(ROLES)}"
                )
            rules.setdefault(group, []).append((workspace, role))
    return rules


def roles_for(rules: Mapping[str, list[tuple[str, str]]], groups: Iterable[str]) -> dict[str, str]:
    """Workspace name -> the highest role the user's ``groups`` (and ``*``) map to."""
    granted: dict[str, str] = {}
    for group in [EVERYONE, *groups]:
        for workspace, role in rules.get(group, []):
            current = granted.get(workspace)
            if current is None or ROLES.index(role) > ROLES.index(current):
                granted[workspace] = role
    return granted
