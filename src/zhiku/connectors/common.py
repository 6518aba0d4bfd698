"""What the built-in remote connectors share: strict option models, include/exclude globs,
the URL guard for every endpoint a source names, the item size limit, and loading the
optional client libraries."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from types import ModuleType

from pydantic import BaseModel, ConfigDict, Field

from zhiku.connectors.base import ConnectorContext, SourceItem
from zhiku.core.errors import (
    InvalidInput,
    MissingDependency,
    PayloadTooLarge,
    SourceUnreachable,
    ZhikuError,
)

INSTALL_HINT = "pip install 'zhiku[connectors]'"


class Options(BaseModel):
    """A connector's settings: unknown fields are refused, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Globs(Options):
    """Which paths to take: a glob without ``/`` matches a file name at any depth, one with
    ``/`` the whole relative path; ``*`` stays within a folder, ``**`` crosses folders."""

    include: list[str] = Field(default_factory=list, description="Globs to take (all if empty).")
    exclude: list[str] = Field(default_factory=list, description="Globs to leave out.")

    def selects(self, path: str) -> bool:
        """Whether the relative ``path`` is taken."""
        if self.include and not any(glob_match(g, path) for g in self.include):
            return False
        return not any(glob_match(g, path) for g in self.exclude)


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def glob_match(pattern: str, path: str) -> bool:
    """Whether ``path`` (relative, ``/``-separated) matches ``pattern`` (see :class:`Globs`)."""
    pattern = pattern.strip("/")
    target = path if "/" in pattern else path.rsplit("/", 1)[-1]
    return _glob_regex(pattern).fullmatch(target) is not None


def need(module: str) -> ModuleType:
    """Import an optional client library, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"this source needs the '{module.split('.')[0]}' library: {INSTALL_HINT}"
        ) from exc


def check_host(host: str, port: int, ctx: ConnectorContext, source: str) -> None:
    """Refuse a source endpoint on an internal address unless the context allows it (the
    ingest URL guard's rules: loopback, private, link-local and metadata addresses need the
    host, host:port or a CIDR range on the allow-list). An unknown host is unreachable."""
    if ctx.allow_private_urls:
        return
    from zhiku.ingest.fetch import BlockedAddress, UrlPolicy

    try:
        UrlPolicy(ctx.allowed_hosts).resolve(host, port)
    except BlockedAddress as exc:
        raise BlockedAddress(f"{source}: {exc.message}") from None
    except InvalidInput as exc:
        raise SourceUnreachable(f"{source}: {exc.message}") from None


def check_size(item: SourceItem, ctx: ConnectorContext, size: int | None = None) -> None:
    """Refuse an item over the size limit (its listed size, or the bytes read so far)."""
    got = item.size if size is None else size
    if got is not None and got > ctx.max_item_bytes:
        raise PayloadTooLarge(
            f"{item.id}: {got:,} bytes is over the limit of {ctx.max_item_bytes:,} bytes",
            item=item.id,
        )


@contextmanager
def translated(what: str, translate: Callable[[str, Exception], ZhikuError]) -> Iterator[None]:
    """Raise a client library's error as the Zhiku error ``translate`` makes of it (naming
    ``what``), so a caller sees which source failed and why, not a traceback."""
    try:
        yield
    except ZhikuError:
        raise
    except Exception as exc:
        raise translate(what, exc) from exc


def first_line(text: object) -> str:
    """The first line of an error message, cut to a readable length."""
    lines = str(text).strip().splitlines()
    return lines[0][:300] if lines else "unknown error"
