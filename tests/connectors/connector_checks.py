"""What every connector's tests check: a listing as id → version, and the difference between
two listings (added, changed, removed, unchanged)."""

from __future__ import annotations

from zhiku.connectors.base import Connector, ConnectorContext


def context(**overrides: object) -> ConnectorContext:
    """A context for sources on 127.0.0.1 with a small size limit and a short time-out."""
    values: dict[str, object] = {"max_item_bytes": 1000, "allowed_hosts": ("127.0.0.1",),
                                 "timeout_s": 5.0}
    values.update(overrides)
    return ConnectorContext(**values)  # type: ignore[arg-type]


def listing(conn: Connector) -> dict[str, str]:
    """The source's items now, id → version."""
    return {item.id: item.version for item in conn.items()}


def contents(conn: Connector) -> dict[str, bytes]:
    """Every item's bytes, by id."""
    return {item.id: conn.fetch(item) for item in conn.items()}


def diff(before: dict[str, str], after: dict[str, str]) -> dict[str, set[str]]:
    """What changed between two listings."""
    return {
        "added": after.keys() - before.keys(),
        "removed": before.keys() - after.keys(),
        "changed": {k for k in before.keys() & after.keys() if before[k] != after[k]},
        "unchanged": {k for k in before.keys() & after.keys() if before[k] == after[k]},
    }
