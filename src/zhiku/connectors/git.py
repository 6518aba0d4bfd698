"""Git repositories through ``dulwich``: a remote reachable over HTTP(S), or a local path.

A remote is fetched into a bare repository in the Zhiku home's cache, so a later run fetches
only the commits it lacks; files are read straight from the object store, without a checkout.
An item's version is its blob id, so a file that a new commit leaves alone keeps its version.

Dulwich rather than the git CLI: it is pure Python (no git binary needed in the image), reads
blobs and trees in-process instead of one subprocess per file, and offers no transport that
runs programs (the CLI's ``ext::`` remote helpers, options smuggled in a URL). Its HTTP client
is given a connection pool that checks every request, redirects included, against the URL
guard.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
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

_HEAD_REF = b"refs/zhiku/fetched"  # where the cache keeps the fetched commit (the next "have")


class GitOptions(Globs):
    """Which repository, branch and files."""

    url: str = Field(min_length=1, description="An http(s) URL of the repository, or a local "
                     "path on the server.")
    branch: str | None = Field(default=None, description="Branch to read; the default branch "
                               "(HEAD) if empty.")
    paths: list[str] = Field(default_factory=list, description="Folders or files of the "
                             "repository to take (all if empty).")
    web_url: str | None = Field(
        default=None,
        description="A link for each file, with {commit}, {branch} and {path} filled in, e.g. "
        "https://git.example.com/team/docs/blob/{commit}/{path}.",
    )

    def in_paths(self, path: str) -> bool:
        """Whether ``path`` lies in one of ``paths``."""
        wanted = [p.strip("/") for p in self.paths if p.strip("/")]
        return not wanted or any(path == p or path.startswith(p + "/") for p in wanted)


def _is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


class GitConnector:
    """The files of one branch of a repository."""

    def __init__(self, options: GitOptions, secrets: dict[str, str],
                 ctx: ConnectorContext) -> None:
        self.options = options
        self.ctx = ctx
        self.source = f"git {options.url}" + (f" ({options.branch})" if options.branch else "")
        self._dulwich = need("dulwich.repo")
        self._secrets = secrets
        self._temp: Path | None = None
        self._commit: bytes | None = None
        self._branch: str | None = options.branch
        if _is_local(options.url):
            path = options.url.removeprefix("file://")
            with translated(self.source, _translated):
                self.repo = self._dulwich.Repo(path)
            return
        parts = urlsplit(options.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(f"{self.source}: use an http(s) URL or a local path")
        if parts.username or parts.password:
            raise InvalidInput(f"{self.source}: put the user name and token in the secrets")
        self._check(options.url)
        self.repo = self._cache_repo()

    def _check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(f"{self.source}: refusing to follow {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        check_host(parts.hostname, port, self.ctx, self.source)

    def _cache_repo(self) -> Any:
        """The bare repository this remote is fetched into (created on first use)."""
        if self.ctx.cache_dir is None:
            self._temp = Path(tempfile.mkdtemp(prefix="zhiku-git-"))
            folder = self._temp
        else:
            key = hashlib.sha256(self.options.url.encode()).hexdigest()[:32]
            folder = self.ctx.cache_dir / "git" / key
        if (folder / "objects").is_dir():
            return self._dulwich.Repo(str(folder))
        folder.mkdir(parents=True, exist_ok=True)
        return self._dulwich.Repo.init_bare(str(folder))

    def _pool(self) -> Any:
        """A urllib3 pool that refuses any request (a redirect too) to a guarded address."""
        urllib3 = need("urllib3")
        check = self._check

        class GuardedPool(urllib3.PoolManager):  # type: ignore[name-defined]
            def urlopen(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
                check(url)
                return super().urlopen(method, url, *args, **kwargs)

        timeout = urllib3.Timeout(connect=self.ctx.timeout_s, read=self.ctx.timeout_s)
        return GuardedPool(timeout=timeout, retries=urllib3.Retry(total=1, redirect=5))

    def _fetch_remote(self) -> bytes:
        """Fetch the branch's newest commit (only what the cache lacks); its id."""
        client_mod = need("dulwich.client")
        client, path = client_mod.get_transport_and_path(
            self.options.url,
            username=self._secrets.get("username") or None,
            password=self._secrets.get("password") or None,
            pool_manager=self._pool(),
        )
        wanted: list[bytes] = []

        def wants(refs: Mapping[bytes, bytes], depth: int | None = None) -> list[bytes]:
            ref = b"refs/heads/" + self._branch.encode() if self._branch else b"HEAD"
            if ref not in refs:
                raise SourceError(f"{self.source}: the repository has no branch "
                                  f"{self._branch or 'HEAD'!r}")
            wanted.append(refs[ref])
            return [] if refs[ref] in self.repo.object_store else [refs[ref]]

        with _locked(Path(self.repo.path)):
            result = client.fetch(path, self.repo, determine_wants=wants)
        if not wanted:
            raise SourceError(f"{self.source}: the repository has no commits")
        if self._branch is None:
            head = result.symrefs.get(b"HEAD", b"")
            self._branch = head.removeprefix(b"refs/heads/").decode() or None
        self.repo.refs[_HEAD_REF] = wanted[0]
        return wanted[0]

    def _local_commit(self) -> bytes:
        if self._branch is None:
            head = self.repo.refs.get_symrefs().get(b"HEAD", b"")
            self._branch = head.removeprefix(b"refs/heads/").decode() or None
            return bytes(self.repo.head())
        ref = b"refs/heads/" + self._branch.encode()
        if ref not in self.repo.refs:
            raise SourceError(f"{self.source}: the repository has no branch {self._branch!r}")
        return bytes(self.repo.refs[ref])

    def commit(self) -> bytes:
        """The id of the commit this connector reads (fetched once per connector)."""
        if self._commit is None:
            with translated(self.source, _translated):
                local = _is_local(self.options.url)
                self._commit = self._local_commit() if local else self._fetch_remote()
        return self._commit

    def items(self) -> Iterator[SourceItem]:
        """Every regular file of the branch's newest commit that ``paths`` and the globs
        select, by path (symbolic links and submodules are left out)."""
        commit_id = self.commit()
        with translated(self.source, _translated):
            tree = self.repo[commit_id].tree
            entries = sorted(self.repo.object_store.iter_tree_contents(tree),
                             key=lambda e: e.path)
        commit = commit_id.decode()
        for entry in entries:
            if not stat.S_ISREG(entry.mode):
                continue
            path = entry.path.decode("utf-8", "replace")
            if not (self.options.in_paths(path) and self.options.selects(path)):
                continue
            meta: dict[str, Any] = {"path": path, "commit": commit, "branch": self._branch}
            if self.options.web_url:
                meta["url"] = self._link(commit, path)
            yield SourceItem(id=path, version=entry.sha.decode(), name=path, metadata=meta)

    def _link(self, commit: str, path: str) -> str:
        assert self.options.web_url is not None
        return (self.options.web_url.replace("{commit}", commit)
                .replace("{branch}", quote(self._branch or "", safe=""))
                .replace("{path}", quote(path)))

    def fetch(self, item: SourceItem) -> bytes:
        """The file's bytes, read from the object store by its blob id."""
        with translated(f"{self.source}: {item.id}", _translated):
            data: bytes = self.repo.object_store[item.version.encode()].as_raw_string()
        check_size(item, self.ctx, len(data))
        return data

    def close(self) -> None:
        """Close the repository; a temporary clone is removed."""
        self.repo.close()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold the cache folder's lock: two sources of one repository (or two workers) fetch
    into it one after the other."""
    try:
        import fcntl
    except ImportError:  # not POSIX: fetches into one folder are not serialised
        yield
        return
    with open(folder / "zhiku-fetch.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _translated(what: str, exc: Exception) -> ZhikuError:
    client = need("dulwich.client")
    errors = need("dulwich.errors")
    if isinstance(exc, client.HTTPUnauthorized):
        return SourceAuthFailed(f"{what}: the server refused the credentials")
    if isinstance(exc, errors.NotGitRepository):
        return SourceError(f"{what}: not a Git repository")
    if isinstance(exc, KeyError):
        return SourceError(f"{what}: the object is missing from the repository")
    text = first_line(exc)
    if isinstance(exc, errors.HangupException | OSError) or any(
            word in text for word in ("Max retries", "Connection refused", "timed out")):
        return SourceUnreachable(f"{what}: the server did not answer ({text})")
    if "401" in text or "403" in text:
        return SourceAuthFailed(f"{what}: the server refused the credentials ({text})")
    return SourceError(f"{what}: {text}")


def _open(options: BaseModel, secrets: dict[str, str], ctx: ConnectorContext) -> GitConnector:
    assert isinstance(options, GitOptions)
    return GitConnector(options, secrets, ctx)


SPEC = ConnectorSpec(
    kind="git",
    config_model=GitOptions,
    open=_open,
    secret_fields=("username", "password"),
    description="A Git repository: an http(s) URL or a local path, one branch, some paths.",
)
