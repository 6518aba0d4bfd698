"""The connector interface: list items with a stable id and a version, fetch one item's bytes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel


@dataclass(frozen=True)
class SourceItem:
    """One document at its source.

    ``id`` is stable across runs (a relative path, a canonical URL, an object key, a row's
    primary key); ``version`` changes whenever the content may have changed (etag, mtime and
    size, commit id, row hash), so an unchanged item is skipped without being downloaded.
    ``name`` carries the extension that picks the parser.
    """

    id: str
    version: str
    name: str
    size: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectorContext:
    """What the running installation lends a connector: limits and the URL guard's policy."""

    max_item_bytes: int
    allow_private_urls: bool = False
    allowed_hosts: tuple[str, ...] = ()
    timeout_s: float = 30.0
    cache_dir: Path | None = None  # kept between runs (a Git clone); else a temporary folder


class Connector(Protocol):
    """An open connection to one configured source."""

    def items(self) -> Iterator[SourceItem]:
        """Every item at the source now, in a stable order."""
        ...

    def fetch(self, item: SourceItem) -> bytes:
        """The item's bytes; raises a ``ZhikuError`` naming the item when it cannot."""
        ...

    def close(self) -> None:
        """Release connections and temporary files."""
        ...


@dataclass(frozen=True)
class ConnectorSpec:
    """A connector kind: its settings schema, which settings are secrets, and its opener.

    Secret fields are stored encrypted and never returned; ``open`` receives them decrypted
    in ``secrets``.
    """

    kind: str
    config_model: type[BaseModel]
    open: Callable[[BaseModel, dict[str, str], ConnectorContext], Connector]
    secret_fields: tuple[str, ...] = ()
    description: str = ""
