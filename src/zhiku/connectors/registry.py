"""Connector kinds: the built-in ones, and third-party ones found through entry points.

A package adds a connector without touching Zhiku by declaring an entry point in the group
``zhiku.connectors`` whose object is a :class:`~zhiku.connectors.base.ConnectorSpec`.
Modules are imported only when their kind is used, so optional client libraries stay optional.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from zhiku.connectors.base import ConnectorSpec
from zhiku.core.errors import InvalidInput

ENTRY_POINT_GROUP = "zhiku.connectors"

BUILTIN: dict[str, str] = {
    "folder": "zhiku.connectors.folder:SPEC",
    "web": "zhiku.connectors.web:SPEC",
    "s3": "zhiku.connectors.s3:SPEC",
    "webdav": "zhiku.connectors.webdav:SPEC",
    "git": "zhiku.connectors.git:SPEC",
    "sql": "zhiku.connectors.sql:SPEC",
}


def _load(target: str) -> ConnectorSpec:
    module, _, attr = target.partition(":")
    spec = getattr(importlib.import_module(module), attr)
    if not isinstance(spec, ConnectorSpec):
        raise InvalidInput(f"connector entry point {target!r} is not a ConnectorSpec")
    return spec


def kinds() -> dict[str, str]:
    """Every known kind mapped to the ``module:attribute`` that defines it."""
    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def connector_spec(kind: str) -> ConnectorSpec:
    """The spec of ``kind``; a clear error listing the known kinds otherwise."""
    known = kinds()
    if kind not in known:
        raise InvalidInput(f"unknown source kind {kind!r}; known: {', '.join(sorted(known))}")
    return _load(known[kind])
