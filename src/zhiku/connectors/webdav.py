"""WebDAV shares (Nextcloud, ownCloud, Seafile, most NAS) through ``fsspec``'s ``webdav4``.

A listing is one PROPFIND per folder, which gives every file's size, modification time and
(on most servers) ETag, so an unchanged file is recognised without reading it. Every request,
redirects included, goes through the URL guard.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, Field

from zhiku.connectors.base import ConnectorContext, ConnectorSpec, SourceItem
from zhiku.connectors.common import (
    Globs,
    check_host,
    check_size,
    first_line,
    need,
    translated,
)
from zhiku.core.errors import (
    InvalidInput,
    SourceAuthFailed,
    SourceError,
    SourceUnreachable,
    ZhikuError,
)


class WebdavOptions(Globs):
    """Where the files are."""

    base_url: str = Field(
        min_length=1,
        description="The server's WebDAV URL, e.g. https://cloud.example.com/remote.php/dav/"
        "files/alice/.",
    )
    root: str = Field(default="", description="Only files under this folder of the share.")


class WebdavConnector:
    """The files under one folder of a WebDAV share."""

    def __init__(self, options: WebdavOptions, secrets: dict[str, str],
                 ctx: ConnectorContext) -> None:
        self.options = options
        self.ctx = ctx
        self.base = options.base_url.rstrip("/") + "/"
        self.root = options.root.strip("/")
        self.source = f"webdav {self.base}{self.root}".rstrip("/")
        parts = urlsplit(self.base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(f"{self.source}: the base URL must be an http(s) URL")
        if parts.username or parts.password:
            raise InvalidInput(f"{self.source}: put the user name and password in the secrets")
        self._check(parts.scheme, parts.hostname, parts.port)
        webdav = need("webdav4.fsspec")
        user, password = secrets.get("username"), secrets.get("password")
        self.fs = webdav.WebdavFileSystem(
            self.base,
            auth=(user, password or "") if user else None,
            timeout=ctx.timeout_s,
            trust_env=False,
            event_hooks={"request": [self._guard]},
        )

    def _check(self, scheme: str, host: str, port: int | None) -> None:
        check_host(host, port or (443 if scheme == "https" else 80), self.ctx, self.source)

    def _guard(self, request: Any) -> None:
        """httpx's request hook: every request, redirects included, passes the URL guard."""
        url = request.url
        self._check(url.scheme, url.host, url.port)

    def items(self) -> Iterator[SourceItem]:
        """Every file under the root that the globs select, by path below the root."""
        with translated(self.source, _translated):
            found: dict[str, dict[str, Any]] = self.fs.find(self.root, detail=True)
            if not found and self.root and not self.fs.isdir(self.root):
                raise SourceError(f"{self.source}: the folder does not exist")
        cut = len(self.root) + 1 if self.root else 0
        for path in sorted(found):
            info = found[path]
            if info.get("type") != "file":
                continue
            rel = path[cut:]
            if not self.options.selects(rel):
                continue
            size = int(info.get("size") or 0)
            modified = info.get("modified")
            stamp = modified.isoformat() if isinstance(modified, datetime) else None
            etag = str(info.get("etag") or "").strip('"')
            yield SourceItem(
                id=rel,
                version=etag if etag else f"{stamp}:{size}",
                name=rel,
                size=size,
                metadata={"path": rel, "url": self.base + quote(path), "size": size,
                          "modified": stamp},
            )

    def fetch(self, item: SourceItem) -> bytes:
        """The file's bytes; refused before reading when it is over the size limit."""
        check_size(item, self.ctx)
        path = f"{self.root}/{item.id}" if self.root else item.id
        with translated(f"{self.source}: {item.id}", _translated):
            data: bytes = self.fs.cat_file(path, start=0, end=self.ctx.max_item_bytes + 1)
        check_size(item, self.ctx, len(data))
        return data

    def close(self) -> None:
        """Close the HTTP connections."""
        self.fs.client.http.close()


def _translated(what: str, exc: Exception) -> ZhikuError:
    httpx = need("httpx")
    status = getattr(exc, "status_code", None)
    if isinstance(exc, httpx.TransportError):
        return SourceUnreachable(f"{what}: the server did not answer ({first_line(exc)})")
    if status in (401, 403):
        return SourceAuthFailed(f"{what}: the server refused the credentials (HTTP {status})")
    if isinstance(exc, FileNotFoundError) or status == 404:
        return SourceError(f"{what}: not found")
    return SourceError(f"{what}: {first_line(exc)}")


def _open(options: BaseModel, secrets: dict[str, str], ctx: ConnectorContext) -> WebdavConnector:
    assert isinstance(options, WebdavOptions)
    return WebdavConnector(options, secrets, ctx)


SPEC = ConnectorSpec(
    kind="webdav",
    config_model=WebdavOptions,
    open=_open,
    secret_fields=("username", "password"),
    description="A WebDAV share: Nextcloud, ownCloud, Seafile, most NAS.",
)
