"""The ``folder`` connector: files under a directory of the server (a local disk or an NFS/SMB
mount), chosen by include and exclude globs.

An item's id is its path relative to the root (``/``-separated) and its version the file's
modification time in nanoseconds and its size, so listing never reads a file. Symbolic links
are followed only while they stay inside the root: a link out of it (or a loop) is skipped.
Hidden files and folders (``.git``, ``.DS_Store``) are skipped unless a pattern names them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from zhiku.connectors.base import ConnectorContext, ConnectorSpec, SourceItem
from zhiku.connectors.common import glob_match
from zhiku.core.errors import InvalidInput, NotFound


class FolderConfig(BaseModel):
    """Where the files are and which ones to take."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="the folder, an absolute path on the server")
    include: list[str] = Field(default_factory=list,
                               description="globs of relative paths to take (all if empty)")
    exclude: list[str] = Field(default_factory=list, description="globs of paths to skip")
    hidden: bool = Field(default=False, description="take hidden files and folders too")


def matches(rel: str, patterns: list[str]) -> bool:
    """Whether the relative path ``rel`` matches one of the globs (the other connectors'
    rules: see ``common.Globs``)."""
    return any(glob_match(pattern, rel) for pattern in patterns)


def _owner(uid: int, cache: dict[int, str]) -> str:
    if uid not in cache:
        try:
            import pwd

            cache[uid] = pwd.getpwuid(uid).pw_name
        except (ImportError, KeyError):
            cache[uid] = str(uid)
    return cache[uid]


class FolderConnector:
    """Lists and reads the files of one folder."""

    def __init__(self, config: FolderConfig) -> None:
        root = Path(config.path).expanduser()
        if not root.is_absolute():
            raise InvalidInput("a folder source's path is absolute")
        if not root.is_dir():
            raise NotFound(f"no such folder: '{root}'")
        self.root = root.resolve()
        self._config = config
        self._owners: dict[int, str] = {}

    def items(self) -> Iterator[SourceItem]:
        """Every matching file, in sorted order (walks with ``os.scandir``: one stat each)."""
        yield from self._walk(self.root, "", {self._key(self.root)})

    def _key(self, path: Path) -> tuple[int, int]:
        st = path.stat()
        return st.st_dev, st.st_ino

    def _walk(self, folder: Path, prefix: str,
              seen: set[tuple[int, int]]) -> Iterator[SourceItem]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return  # an unreadable folder lists nothing (its files are not "gone" by error)
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            if entry.name.startswith(".") and not self._config.hidden:
                continue
            try:
                if entry.is_symlink() and not self._inside(Path(entry.path)):
                    continue
                st = entry.stat()
            except OSError:
                continue  # a dangling link
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in seen or self._excluded_folder(rel):
                    continue
                yield from self._walk(Path(entry.path), rel + "/", seen | {key})
            elif stat.S_ISREG(st.st_mode):
                if (self._config.include and not matches(rel, self._config.include)) or \
                        matches(rel, self._config.exclude):
                    continue
                path = Path(entry.path)
                yield SourceItem(
                    id=rel, version=f"{st.st_mtime_ns}:{st.st_size}", name=entry.name,
                    size=st.st_size,
                    metadata={
                        "path": str(path),
                        "relative_path": rel,
                        "modified": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(),
                        "owner": _owner(st.st_uid, self._owners),
                    },
                )

    def _excluded_folder(self, rel: str) -> bool:
        """Whether an exclude glob names the whole folder (``skip/**`` or ``skip``), so its
        files are never walked."""
        return matches(rel, self._config.exclude) or matches(rel + "/x", [
            p for p in self._config.exclude if p.rstrip("/").endswith("/**")])

    def _inside(self, path: Path) -> bool:
        """Whether ``path`` (a link) resolves to somewhere inside the root."""
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return False
        return target == self.root or target.is_relative_to(self.root)

    def fetch(self, item: SourceItem) -> bytes:
        """The file's bytes (re-checked to be inside the root: it may have changed since)."""
        path = (self.root / item.id)
        if not self._inside(path):
            raise InvalidInput(f"'{item.id}' is no longer inside the folder")
        return path.read_bytes()

    def close(self) -> None:
        """Nothing to release."""


def _open(config: BaseModel, secrets: dict[str, str],
          context: ConnectorContext) -> FolderConnector:
    assert isinstance(config, FolderConfig)
    return FolderConnector(config)


SPEC = ConnectorSpec(
    kind="folder",
    config_model=FolderConfig,
    open=_open,
    description="files in a folder on the server (local disk, NFS or SMB mount)",
)
