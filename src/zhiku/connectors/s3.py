"""S3-compatible object storage (AWS S3, MinIO, Alibaba OSS, Tencent COS, …) through
``fsspec``'s ``s3fs``.

One listing request per thousand objects gives every object's key, size, ETag and modification
time, so an unchanged object is recognised without reading it. Without credentials the bucket
is read anonymously: the server's own AWS credentials (environment, instance role) are never
lent to a source.

s3fs rather than boto3 directly: it sends the requests a boto3 paginator would (one
ListObjectsV2 per thousand keys, one ranged GET per changed object), so a hand-written client
would save nothing on the wire, and it shares the ``fsspec`` interface with the WebDAV connector.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, Field

from zhiku.connectors.base import ConnectorContext, ConnectorSpec, SourceItem
from zhiku.connectors.common import Globs, check_host, check_size, first_line, need, translated
from zhiku.core.errors import (
    InvalidInput,
    SourceAuthFailed,
    SourceError,
    SourceUnreachable,
    ZhikuError,
)

_AUTH_CODES = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden",
               "InvalidToken", "ExpiredToken")


class S3Options(Globs):
    """Where the objects are."""

    bucket: str = Field(min_length=1, description="Bucket name.")
    prefix: str = Field(default="", description="Only keys under this prefix (a folder).")
    endpoint_url: str | None = Field(
        default=None,
        description="The service's URL for a non-AWS store (MinIO, OSS, COS); AWS if empty.",
    )
    region: str | None = Field(default=None, description="Region name, when the store needs it.")
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto", description="Bucket in the path or in the host name."
    )


class S3Connector:
    """The objects under one bucket's prefix."""

    def __init__(self, options: S3Options, secrets: dict[str, str], ctx: ConnectorContext):
        self.options = options
        self.ctx = ctx
        self.source = f"s3://{options.bucket}/{options.prefix.strip('/')}".rstrip("/")
        endpoint = options.endpoint_url
        if endpoint:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InvalidInput(f"{self.source}: the endpoint must be an http(s) URL")
            check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                       ctx, self.source)
        s3fs = need("s3fs")
        key, secret = secrets.get("access_key_id"), secrets.get("secret_access_key")
        if bool(key) != bool(secret):
            raise InvalidInput(f"{self.source}: give both access_key_id and "
                               "secret_access_key, or neither (anonymous access)")
        self.fs = s3fs.S3FileSystem(
            key=key or None,
            secret=secret or None,
            token=secrets.get("session_token") or None,
            anon=not key,
            endpoint_url=endpoint,
            client_kwargs={"region_name": options.region} if options.region else {},
            config_kwargs={
                "connect_timeout": ctx.timeout_s,
                "read_timeout": ctx.timeout_s,
                "retries": {"max_attempts": 2, "mode": "standard"},
                "s3": {"addressing_style": options.addressing_style},
            },
            skip_instance_cache=True,
            use_listings_cache=False,
        )
        # botocore's two attempts are the retry: s3fs would repeat each call five more times
        # with its own backoff (twelve connections to a dead endpoint, a stalled sync).
        self.fs.retries = 1

    def _root(self) -> str:
        prefix = self.options.prefix.strip("/")
        return f"{self.options.bucket}/{prefix}" if prefix else self.options.bucket

    def _url(self, key: str) -> str:
        if self.options.endpoint_url:
            base = self.options.endpoint_url.rstrip("/")
            return f"{base}/{quote(self.options.bucket)}/{quote(key)}"
        return f"s3://{self.options.bucket}/{key}"

    def items(self) -> Iterator[SourceItem]:
        """Every object under the prefix that the globs select, by key."""
        root = self._root()
        with translated(self.source, _translated):
            found: dict[str, dict[str, Any]] = self.fs.find(root, detail=True)
        cut = len(root) + 1
        for path in sorted(found):
            info = found[path]
            if info.get("type") != "file" or path.endswith("/"):
                continue
            rel = path[cut:]
            if not self.options.selects(rel):
                continue
            key = path[len(self.options.bucket) + 1:]
            size = int(info.get("size") or 0)
            etag = str(info.get("ETag") or "").strip('"')
            modified = info.get("LastModified")
            yield SourceItem(
                id=key,
                version=f"{etag}:{size}",
                name=key,
                size=size,
                metadata={
                    "key": key,
                    "url": self._url(key),
                    "size": size,
                    "modified": modified.isoformat() if isinstance(modified, datetime) else None,
                },
            )

    def fetch(self, item: SourceItem) -> bytes:
        """The object's bytes; refused before reading when it is over the size limit."""
        check_size(item, self.ctx)
        with translated(f"{self.source}: {item.id}", _translated):
            data: bytes = self.fs.cat_file(f"{self.options.bucket}/{item.id}",
                                           start=0, end=self.ctx.max_item_bytes + 1)
        check_size(item, self.ctx, len(data))
        return data

    def close(self) -> None:
        """Nothing to release: s3fs closes its session with the file system object."""


def _translated(what: str, exc: Exception) -> ZhikuError:
    botocore = need("botocore.exceptions")
    text = str(exc)
    if isinstance(exc, botocore.EndpointConnectionError | botocore.ConnectTimeoutError
                  | botocore.ReadTimeoutError):
        return SourceUnreachable(f"{what}: the storage endpoint did not answer")
    if isinstance(exc, botocore.NoCredentialsError | PermissionError) or any(
            code in text for code in _AUTH_CODES):
        return SourceAuthFailed(f"{what}: the storage refused the credentials ({first_line(text)})")
    if isinstance(exc, FileNotFoundError):
        return SourceError(f"{what}: no such bucket or object")
    return SourceError(f"{what}: {first_line(text)}")


def _open(options: BaseModel, secrets: dict[str, str], ctx: ConnectorContext) -> S3Connector:
    assert isinstance(options, S3Options)
    return S3Connector(options, secrets, ctx)


SPEC = ConnectorSpec(
    kind="s3",
    config_model=S3Options,
    open=_open,
    secret_fields=("access_key_id", "secret_access_key", "session_token"),
    description="S3-compatible object storage: a bucket and prefix (AWS S3, MinIO, OSS, COS).",
)
