"""The WebDAV connector against wsgidav serving a temporary folder on 127.0.0.1 (cheroot),
with basic authentication."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from connector_checks import cited, contents, context, diff, follows_the_source, listing, zhiku

from zhiku.connectors.webdav import SPEC, WebdavConnector
from zhiku.core.errors import PayloadTooLarge, SourceAuthFailed, SourceError, SourceUnreachable
from zhiku.ingest.fetch import BlockedAddress

wsgi = pytest.importorskip("cheroot.wsgi")
wsgidav_app = pytest.importorskip("wsgidav.wsgidav_app")


def _redirecting(app: Callable[..., Any]) -> Callable[..., Iterable[bytes]]:
    """Requests under /moved are sent to the cloud metadata address."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"].startswith("/moved"):
            start_response("301 Moved", [("Location", "http://169.254.169.254/latest/")])
            return [b""]
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return wrapped


@pytest.fixture(scope="module")
def share(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The server's base URL and the folder it serves (user ``alice``, password ``s3cret``)."""
    root = tmp_path_factory.mktemp("dav")
    app = wsgidav_app.WsgiDAVApp({
        "provider_mapping": {"/": str(root)},
        "simple_dc": {"user_mapping": {"*": {"alice": {"password": "s3cret"}}}},
        "http_authenticator": {"accept_basic": True, "accept_digest": False,
                               "default_to_digest": False},
        "verbose": 0,
        "logging": {"enable": False},
    })
    server = wsgi.Server(("127.0.0.1", 0), _redirecting(app))
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.bind_addr[1]}/", root
    server.stop()
    thread.join(5)


@pytest.fixture
def folder(share: tuple[str, Path], request: pytest.FixtureRequest) -> Path:
    """A fresh folder of the share for one test."""
    path = share[1] / request.node.name
    path.mkdir()
    return path


def _open(base: str, root: str, *, password: str = "s3cret", ctx: Any = None,
          **options: Any) -> WebdavConnector:
    opts = SPEC.config_model.model_validate({"base_url": base, "root": root, **options})
    conn = SPEC.open(opts, {"username": "alice", "password": password}, ctx or context())
    assert isinstance(conn, WebdavConnector)
    return conn


def test_lists_fetches_and_follows_changes(share: tuple[str, Path], folder: Path):
    (folder / "sub").mkdir()
    (folder / "a.md").write_text("# A\n\nalpha")
    (folder / "sub" / "b.txt").write_text("béta")
    (folder / "skip.tmp").write_text("no")
    conn = _open(share[0], folder.name, exclude=["*.tmp"])
    assert contents(conn) == {"a.md": b"# A\n\nalpha", "sub/b.txt": "béta".encode()}
    a = next(item for item in conn.items() if item.id == "a.md")
    assert a.name == "a.md" and a.size == 10
    assert a.metadata["url"] == f"{share[0]}{folder.name}/a.md"
    assert a.metadata["path"] == "a.md" and a.metadata["modified"]

    before = listing(conn)
    (folder / "a.md").write_text("# A\n\nalpha, changed")
    (folder / "c.md").write_text("new")
    (folder / "sub" / "b.txt").unlink()
    after = listing(conn)
    assert diff(before, after) == {"added": {"c.md"}, "removed": {"sub/b.txt"},
                                   "changed": {"a.md"}, "unchanged": set()}
    assert contents(conn)["a.md"] == b"# A\n\nalpha, changed"
    assert listing(conn) == after
    conn.close()


def test_a_missing_root_is_an_error_not_an_empty_source(share: tuple[str, Path]):
    with pytest.raises(SourceError, match="does not exist"):
        listing(_open(share[0], "no-such-folder"))


def test_a_file_over_the_limit_is_listed_and_refused(share: tuple[str, Path], folder: Path):
    (folder / "big.txt").write_bytes(b"x" * 1001)
    (folder / "small.txt").write_bytes(b"ok")
    conn = _open(share[0], folder.name, include=["*.txt"])
    items = {item.id: item for item in conn.items()}
    assert items["big.txt"].size == 1001
    with pytest.raises(PayloadTooLarge, match=r"big\.txt"):
        conn.fetch(items["big.txt"])
    assert conn.fetch(items["small.txt"]) == b"ok"


def test_wrong_credentials_are_a_clear_error(share: tuple[str, Path], folder: Path):
    with pytest.raises(SourceAuthFailed, match=r"webdav http://127\.0\.0\.1"):
        listing(_open(share[0], folder.name, password="wrong"))


def test_a_closed_port_fails_fast():
    start = time.monotonic()
    with pytest.raises(SourceUnreachable, match=r"127\.0\.0\.1:9"):
        listing(_open("http://127.0.0.1:9/dav/", ""))
    assert time.monotonic() - start < 5


def test_the_url_guard_checks_the_server_and_every_redirect(share: tuple[str, Path]):
    with pytest.raises(BlockedAddress, match="internal address"):
        _open(share[0], "", ctx=context(allowed_hosts=()))
    with pytest.raises(BlockedAddress, match=r"169\.254\.169\.254"):
        listing(_open(share[0], "moved"))


class _Share:
    """A folder of the share as a source a test changes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, item: str, text: str) -> None:
        path = self.folder / item
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def delete(self, item: str) -> None:
        (self.folder / item).unlink()

    def settle(self) -> None:
        pass


def test_a_synced_share_follows_its_files(share: tuple[str, Path], folder: Path,
                                          zhiku_home: Path):
    with zhiku(zhiku_home) as zk:
        zk.sources.add("kb", "dav", "webdav", {"base_url": share[0], "root": folder.name},
                       {"username": "alice", "password": "s3cret"})

        def url(item: str) -> str:
            return f"{share[0]}{folder.name}/{item}"

        follows_the_source(zk, _Share(folder), "dav", ["a.md", "sub/b.md", "c.txt", "d.md"],
                           url)
        doc = zk.document("kb", url("d.md"))
        assert doc.metadata["path"] == "d.md" and doc.metadata["url"] == url("d.md")
        assert doc.metadata["modified"] and doc.metadata["sync_source"] == "dav"
        assert cited(zk, "word3x") == url("d.md")
