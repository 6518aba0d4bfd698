"""The S3 connector against moto's standalone server speaking the S3 protocol on 127.0.0.1,
with IAM authentication switched on so that wrong keys are refused as AWS refuses them."""

from __future__ import annotations

import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from connector_checks import cited, contents, context, diff, follows_the_source, listing, zhiku

from zhiku.connectors.s3 import SPEC, S3Connector, S3Options
from zhiku.core.errors import (
    InvalidInput,
    PayloadTooLarge,
    SourceAuthFailed,
    SourceError,
    SourceUnreachable,
)
from zhiku.ingest.fetch import BlockedAddress

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")
_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, str]]:
    """The endpoint and a user's real keys; requests with any other keys are refused."""
    srv = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # The next three requests (making the user) need no signature; every later one does.
    httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"3")
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="setup", aws_secret_access_key="setup")
    iam.create_user(UserName="zhiku")
    iam.put_user_policy(UserName="zhiku", PolicyName="all", PolicyDocument=_POLICY)
    key = iam.create_access_key(UserName="zhiku")["AccessKey"]
    yield {"endpoint": endpoint, "access_key_id": key["AccessKeyId"],
           "secret_access_key": key["SecretAccessKey"]}
    httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"inf")
    srv.stop()


@pytest.fixture
def bucket(server: dict[str, str]) -> tuple[Any, str]:
    """A boto3 client with the user's keys, and a fresh bucket."""
    client = boto3.client("s3", endpoint_url=server["endpoint"], region_name="us-east-1",
                          aws_access_key_id=server["access_key_id"],
                          aws_secret_access_key=server["secret_access_key"])
    name = f"kb-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return client, name


def _open(server: dict[str, str], bucket: str, *, secret: str | None = None,
          endpoint: str | None = None, ctx: Any = None, **options: Any) -> S3Connector:
    opts = SPEC.config_model.model_validate(
        {"bucket": bucket, "endpoint_url": endpoint or server["endpoint"], **options})
    secrets = {"access_key_id": server["access_key_id"],
               "secret_access_key": secret or server["secret_access_key"]}
    conn = SPEC.open(opts, secrets, ctx or context())
    assert isinstance(conn, S3Connector)
    return conn


def test_lists_fetches_and_follows_changes(server: dict[str, str], bucket: tuple[Any, str]):
    client, name = bucket
    client.put_object(Bucket=name, Key="docs/a.md", Body=b"# A\n\nalpha")
    client.put_object(Bucket=name, Key="docs/sub/b.txt", Body="béta".encode())
    client.put_object(Bucket=name, Key="docs/skip.log", Body=b"log")
    client.put_object(Bucket=name, Key="other/c.md", Body=b"outside the prefix")
    conn = _open(server, name, prefix="docs/", exclude=["*.log"])
    assert contents(conn) == {"docs/a.md": b"# A\n\nalpha", "docs/sub/b.txt": "béta".encode()}
    first = {item.id: item for item in conn.items()}
    a = first["docs/a.md"]
    assert a.name == "docs/a.md" and a.size == 10
    assert a.metadata["key"] == "docs/a.md" and a.metadata["size"] == 10
    assert a.metadata["url"] == f"{server['endpoint']}/{name}/docs/a.md"
    assert a.metadata["modified"]

    before = listing(conn)
    client.put_object(Bucket=name, Key="docs/a.md", Body=b"# A\n\nalpha, changed")
    client.put_object(Bucket=name, Key="docs/new.md", Body=b"new")
    client.delete_object(Bucket=name, Key="docs/sub/b.txt")
    after = listing(conn)
    assert diff(before, after) == {"added": {"docs/new.md"}, "removed": {"docs/sub/b.txt"},
                                   "changed": {"docs/a.md"}, "unchanged": set()}
    assert contents(conn)["docs/a.md"] == b"# A\n\nalpha, changed"
    assert listing(conn) == after  # nothing changed: every version is kept
    conn.close()


def test_include_globs(server: dict[str, str], bucket: tuple[Any, str]):
    client, name = bucket
    for key in ("a.md", "x/b.md", "x/c.pdf", "y/d.md"):
        client.put_object(Bucket=name, Key=key, Body=b"x")
    assert set(listing(_open(server, name, include=["*.md"], exclude=["y/**"]))) == {
        "a.md", "x/b.md"}


def test_an_object_over_the_limit_is_listed_and_refused(server: dict[str, str],
                                                        bucket: tuple[Any, str]):
    client, name = bucket
    client.put_object(Bucket=name, Key="big.txt", Body=b"x" * 1001)
    client.put_object(Bucket=name, Key="small.txt", Body=b"ok")
    conn = _open(server, name)
    items = {item.id: item for item in conn.items()}
    assert items["big.txt"].size == 1001
    with pytest.raises(PayloadTooLarge, match=r"big\.txt"):
        conn.fetch(items["big.txt"])
    assert conn.fetch(items["small.txt"]) == b"ok"


def test_wrong_credentials_are_a_clear_error(server: dict[str, str], bucket: tuple[Any, str]):
    _, name = bucket
    conn = _open(server, name, secret="wrong")
    with pytest.raises(SourceAuthFailed, match=f"s3://{name}"):
        listing(conn)


def test_a_closed_port_fails_fast(server: dict[str, str]):
    conn = _open(server, "kb-none", endpoint="http://127.0.0.1:9")
    with pytest.raises(SourceUnreachable, match="s3://kb-none"):
        listing(conn)


def test_a_dropped_connection_is_tried_at_most_twice(server: dict[str, str]):
    """A server that hangs up gets each call at most twice (botocore's ``max_attempts`` 2),
    not s3fs's five retries on top of it: a sync of a dead endpoint fails in moments, not after
    a backoff schedule. A listing makes up to three calls (the walk, then its fallbacks): six
    connections at most, where s3fs's own retries made twelve."""
    requests: Counter[str] = Counter()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.2)
        done = threading.Event()

        def hang_up() -> None:
            while not done.is_set():
                try:
                    peer, _ = listener.accept()
                except TimeoutError:
                    continue
                with peer:
                    peer.settimeout(2)
                    try:
                        head = peer.recv(4096)
                    except OSError:
                        head = b""
                requests[head.split(b"\r\n", 1)[0].decode(errors="replace")] += 1

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        conn = _open(server, "kb-none", endpoint=f"http://127.0.0.1:{port}")
        try:
            with pytest.raises(SourceError, match="s3://kb-none"):
                listing(conn)
        finally:
            done.set()
            thread.join(5)
    assert 1 <= sum(requests.values()) <= 6, requests


def test_an_internal_endpoint_needs_the_allow_list(server: dict[str, str]):
    with pytest.raises(BlockedAddress, match="s3://kb-x"):
        _open(server, "kb-x", ctx=context(allowed_hosts=()))


def test_a_key_without_its_secret_is_refused(server: dict[str, str]):
    opts = S3Options.model_validate({"bucket": "kb-x", "endpoint_url": server["endpoint"]})
    with pytest.raises(InvalidInput, match="both access_key_id and secret_access_key"):
        SPEC.open(opts, {"access_key_id": "AKIA"}, context())


def test_options_are_strict():
    with pytest.raises(ValueError, match="buckett"):
        S3Options.model_validate({"bucket": "b", "buckett": "c"})


class _Bucket:
    """The bucket as a source a test changes."""

    def __init__(self, client: Any, name: str) -> None:
        self.client, self.name = client, name

    def put(self, item: str, text: str) -> None:
        self.client.put_object(Bucket=self.name, Key=f"docs/{item}", Body=text.encode())

    def delete(self, item: str) -> None:
        self.client.delete_object(Bucket=self.name, Key=f"docs/{item}")

    def settle(self) -> None:
        pass


def test_a_synced_bucket_follows_its_objects(server: dict[str, str], bucket: tuple[Any, str],
                                             zhiku_home: Path):
    client, name = bucket
    client.put_object(Bucket=name, Key="other/x.md", Body=b"# Outside the prefix\n")
    secrets = {k: server[k] for k in ("access_key_id", "secret_access_key")}
    with zhiku(zhiku_home) as zk:
        zk.sources.add("kb", "objects", "s3", {"bucket": name, "prefix": "docs/",
                                                "endpoint_url": server["endpoint"]}, secrets)

        def url(item: str) -> str:
            return f"{server['endpoint']}/{name}/docs/{item}"

        follows_the_source(zk, _Bucket(client, name), "objects",
                           ["a.md", "sub/b.md", "c.txt", "d.md"], url)
        doc = zk.document("kb", url("d.md"))
        assert doc.metadata["key"] == "docs/d.md" and doc.metadata["url"] == url("d.md")
        assert doc.metadata["sync_source"] == "objects"
        assert cited(zk, "word3x") == url("d.md")
