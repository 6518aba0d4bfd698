"""The Git connector on a repository made in the test with dulwich: read as a local path, and
served over smart HTTP (dulwich's WSGI server under cheroot, with basic authentication)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from connector_checks import (
    cited,
    contents,
    context,
    diff,
    follows_the_source,
    kb_texts,
    listing,
    zhiku,
)

from zhiku.connectors.git import SPEC, GitConnector
from zhiku.core.errors import PayloadTooLarge, SourceAuthFailed, SourceError, SourceUnreachable
from zhiku.ingest.fetch import BlockedAddress

porcelain = pytest.importorskip("dulwich.porcelain")
wsgi = pytest.importorskip("cheroot.wsgi")
_WHO = b"Test <test@example.com>"
_TOKEN = "Basic " + base64.b64encode(b"alice:t0ken").decode()


class Repo:
    """A repository to change in a test: write, remove, commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with porcelain.init(str(path)) as made:
            made.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")

    def write(self, files: dict[str, bytes | str]) -> None:
        for name, data in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.encode() if isinstance(data, str) else data)
        porcelain.add(str(self.path), [str(self.path / name) for name in files])

    def remove(self, *names: str) -> None:
        porcelain.remove(str(self.path), [str(self.path / name) for name in names])

    def commit(self, message: str = "change") -> str:
        sha: bytes = porcelain.commit(str(self.path), message=message.encode(), author=_WHO,
                                      committer=_WHO)
        return sha.decode()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    made = Repo(tmp_path / "repo")
    made.write({"README.md": "# Docs\n", "guide/a.md": "alpha", "guide/b.txt": "béta",
                "src/app.py": "print()\n"})
    made.commit("first")
    return made


def _authorised(app: Callable[..., Any]) -> Callable[..., Iterable[bytes]]:
    """Basic authentication for user ``alice`` with token ``t0ken``; /moved redirects to the
    cloud metadata address."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"].startswith("/moved"):
            start_response("302 Found", [("Location", "http://169.254.169.254/x/info/refs")])
            return [b""]
        if environ.get("HTTP_AUTHORIZATION") != _TOKEN:
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
            return [b"no"]
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return wrapped


@pytest.fixture
def served(repo: Repo) -> Iterator[str]:
    """The repository's URL over smart HTTP."""
    from dulwich.repo import Repo as DulwichRepo
    from dulwich.server import DictBackend
    from dulwich.web import make_wsgi_chain

    served_repo = DulwichRepo(str(repo.path))
    backend = DictBackend({"/": served_repo})
    server = wsgi.Server(("127.0.0.1", 0), _authorised(make_wsgi_chain(backend)))
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.bind_addr[1]}/"
    server.stop()
    thread.join(5)
    served_repo.close()


def _open(url: str | Path, *, ctx: Any = None, password: str = "t0ken",
          **options: Any) -> GitConnector:
    opts = SPEC.config_model.model_validate({"url": str(url), **options})
    conn = SPEC.open(opts, {"username": "alice", "password": password}, ctx or context())
    assert isinstance(conn, GitConnector)
    return conn


def _list(conn: GitConnector) -> dict[str, str]:
    with closing(conn):
        return listing(conn)


def _changes(repo: Repo, url: str | Path, ctx: Any) -> None:
    """Add, change and remove files; the next connector sees exactly that."""
    conn = _open(url, ctx=ctx, paths=["guide", "README.md"])
    assert contents(conn) == {"README.md": b"# Docs\n", "guide/a.md": b"alpha",
                              "guide/b.txt": "béta".encode()}
    before = listing(conn)
    conn.close()
    repo.write({"guide/a.md": "alpha, changed", "guide/c.md": "new", "src/app.py": "x = 1\n"})
    repo.remove("guide/b.txt")
    commit = repo.commit()
    conn = _open(url, ctx=ctx, paths=["guide", "README.md"])
    after = listing(conn)
    assert diff(before, after) == {"added": {"guide/c.md"}, "removed": {"guide/b.txt"},
                                   "changed": {"guide/a.md"}, "unchanged": {"README.md"}}
    assert contents(conn)["guide/a.md"] == b"alpha, changed"
    item = next(i for i in conn.items() if i.id == "README.md")
    assert item.metadata == {"path": "README.md", "commit": commit, "branch": "main"}
    conn.close()


def test_a_local_repository(repo: Repo):
    _changes(repo, repo.path, context())


def test_a_remote_repository_fetched_into_the_cache(repo: Repo, served: str, tmp_path: Path):
    ctx = context(cache_dir=tmp_path / "cache")
    _changes(repo, served, ctx)
    packs = sorted((tmp_path / "cache" / "git").glob("*/objects/pack/*.pack"))
    assert len(packs) == 2  # the first clone, then only the new commit's objects
    assert packs[0].stat().st_size > 0
    with closing(_open(served, ctx=ctx)) as conn:
        listing(conn)  # nothing new: nothing fetched
    assert sorted((tmp_path / "cache" / "git").glob("*/objects/pack/*.pack")) == packs


def test_without_a_cache_the_clone_is_temporary(repo: Repo, served: str):
    conn = _open(served, include=["*.md"], exclude=["README.md"])
    assert set(listing(conn)) == {"guide/a.md"}
    folder = Path(conn.repo.path)
    conn.close()
    assert not folder.exists()


def test_links_and_branches(repo: Repo):
    commit = repo.commit("empty")
    template = "https://git.example.com/docs/blob/{commit}/{path}?b={branch}"
    conn = _open(repo.path, branch="main", web_url=template, paths=["guide/a.md"])
    (item,) = conn.items()
    conn.close()
    assert item.metadata["url"] == (
        f"https://git.example.com/docs/blob/{commit}/guide/a.md?b=main")
    with pytest.raises(SourceError, match="no branch 'nope'"):
        _list(_open(repo.path, branch="nope"))


def test_a_file_over_the_limit_is_refused(repo: Repo):
    repo.write({"big.txt": b"x" * 1001})
    repo.commit()
    conn = _open(repo.path, include=["*.txt"])
    items = {item.id: item for item in conn.items()}
    with pytest.raises(PayloadTooLarge, match=r"big\.txt"):
        conn.fetch(items["big.txt"])
    assert conn.fetch(items["guide/b.txt"]) == "béta".encode()
    conn.close()


def test_wrong_credentials_are_a_clear_error(served: str):
    with pytest.raises(SourceAuthFailed, match=r"git http://127\.0\.0\.1"):
        _list(_open(served, password="wrong"))


def test_a_closed_port_and_a_missing_path_are_clear_errors(tmp_path: Path):
    start = time.monotonic()
    with pytest.raises(SourceUnreachable, match=r"127\.0\.0\.1:9"):
        _list(_open("http://127.0.0.1:9/repo.git"))
    assert time.monotonic() - start < 5
    with pytest.raises(SourceError, match="not a Git repository"):
        _list(_open(tmp_path / "nothing"))


def test_the_url_guard_checks_the_server_and_every_redirect(served: str):
    with pytest.raises(BlockedAddress, match="internal address"):
        _open(served, ctx=context(allowed_hosts=()))
    with pytest.raises(BlockedAddress, match=r"169\.254\.169\.254"):
        _list(_open(served + "moved"))


class _Place:
    """The repository's ``notes`` folder as a source a test changes; each ``settle`` is a
    commit."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo

    def put(self, item: str, text: str) -> None:
        self.repo.write({f"notes/{item}": text})

    def delete(self, item: str) -> None:
        self.repo.remove(f"notes/{item}")

    def settle(self) -> None:
        self.repo.commit()


@pytest.mark.parametrize("where", ["local", "http"])
def test_a_synced_repository_follows_its_commits(repo: Repo, where: str, zhiku_home: Path,
                                                 request: pytest.FixtureRequest):
    url = str(repo.path) if where == "local" else request.getfixturevalue("served")
    web = "https://git.example.com/docs/src/{branch}/{path}"
    with zhiku(zhiku_home) as zk:
        zk.sources.add("kb", "repo", "git", {"url": url, "paths": ["notes"], "web_url": web},
                       {"username": "alice", "password": "t0ken"})

        def link(item: str) -> str:
            return f"https://git.example.com/docs/src/main/notes/{item}"

        follows_the_source(zk, _Place(repo), "repo", ["a.md", "sub/b.md", "c.txt", "d.md"],
                           link)
        doc = zk.document("kb", link("d.md"))
        with porcelain.open_repo_closing(str(repo.path)) as opened:
            head = opened.head().decode()
        assert doc.metadata["path"] == "notes/d.md" and doc.metadata["branch"] == "main"
        assert doc.metadata["commit"] == head
        assert doc.metadata["sync_source"] == "repo"
        assert cited(zk, "word3x") == link("d.md")


def test_a_changed_file_linked_by_commit_replaces_its_document(repo: Repo, zhiku_home: Path):
    web = "https://git.example.com/docs/blob/{commit}/{path}"
    with zhiku(zhiku_home) as zk:
        zk.sources.add("kb", "repo", "git", {"url": str(repo.path), "paths": ["guide"],
                                             "web_url": web})
        assert zk.sources.sync("repo", "kb", wait=True).added == 2
        repo.write({"guide/a.md": "alpha, changed"})
        commit = repo.commit()
        run = zk.sources.sync("repo", "kb", wait=True)
        assert (run.updated, run.unchanged, run.removed) == (1, 1, 0), run
        texts = kb_texts(zk)
        assert len(texts) == 2  # the document under the old commit's link is gone
        assert texts[f"https://git.example.com/docs/blob/{commit}/guide/a.md"].strip() == (
            "alpha, changed")
