"""The ``web`` connector: the pages of one site, from start URLs and/or sitemaps.

Listing crawls: breadth first from the start URLs and the sitemaps' URLs, following links that
stay on the site (the hosts of the start URLs and sitemaps), up to ``max_depth`` links deep and
``max_pages`` pages, obeying robots.txt (its Crawl-delay in whole seconds too). Up to
``concurrency`` pages are fetched at once from a host without a delay; a host with one
(``delay_s`` or Crawl-delay) gets one request at a time, that long after the last. Each
host has one HTTP client for the crawl, so connections are kept open. Every request
(robots.txt, sitemaps, pages, each redirect) goes through the ingestion SSRF guard, so a page
that redirects to a private or metadata address is refused. A page's id is its canonical URL
(``<link rel=canonical>`` on the same site, else the final URL without its fragment); a page
seen under another URL, or with the same content as one already listed, is listed once.

A page that no longer exists (404, 410) is not listed, so its document is removed; any other
failure lists the page with an error its fetch raises, so what was indexed is kept. Bodies are
kept in a temporary folder between listing and fetching. ``fetch`` returns the main content as
Markdown (``trafilatura``, in the ``connectors`` extra), or the page's HTML for the built-in
parser when that is not installed or ``main_content`` is off.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser
from xml.etree import ElementTree

import httpx
from pydantic import BaseModel, ConfigDict, Field

from zhiku.connectors.base import ConnectorContext, ConnectorSpec, SourceItem
from zhiku.core.errors import InvalidInput, SourceUnreachable, ZhikuError
from zhiku.ingest.fetch import (
    Fetched,
    HttpStatus,
    UrlPolicy,
    check_url,
    fetch,
    guarded_client,
)

USER_AGENT = "zhiku-sync"
GONE = (404, 410)
_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "txt",
          "text/markdown": "md", "application/pdf": "pdf", "text/csv": "csv"}


class WebConfig(BaseModel):
    """Which site to crawl, how far and how fast."""

    model_config = ConfigDict(extra="forbid")

    start_urls: list[str] = Field(default_factory=list, max_length=100)
    sitemaps: list[str] = Field(default_factory=list, max_length=20,
                                description="sitemap.xml URLs (sitemap indexes are followed)")
    max_depth: int = Field(default=3, ge=0, le=50, description="links followed from a start")
    max_pages: int = Field(default=1000, ge=1, le=100_000)
    delay_s: float = Field(default=0.5, ge=0, le=60, description="wait between requests to "
                           "one host (with a wait, they go one at a time)")
    concurrency: int = Field(default=4, ge=1, le=32, description="pages fetched at once")
    robots: bool = Field(default=True, description="obey robots.txt")
    main_content: bool = Field(default=True, description="keep only the main content")
    include: list[str] = Field(default_factory=list,
                               description="URL path prefixes to take (empty: all)")
    exclude: list[str] = Field(default_factory=list, description="URL path prefixes to skip")


def normalize(url: str) -> str:
    """A URL without its fragment, with scheme and host in lower case and no default port."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def site_of(url: str) -> str:
    """The scheme-less host[:port] a URL belongs to."""
    return urlsplit(normalize(url)).netloc


def page_links(html: bytes, base: str) -> tuple[list[str], str | None]:
    """The absolute http(s) links of a page and its canonical URL (None if it names none)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    base_tag = tree.css_first("base[href]")
    if base_tag is not None and base_tag.attributes.get("href"):
        base = urljoin(base, str(base_tag.attributes["href"]))
    links = []
    for node in tree.css("a[href]"):
        href = str(node.attributes.get("href") or "").strip()
        if href and not href.startswith(("#", "mailto:", "javascript:", "tel:")):
            absolute = urljoin(base, href)
            if absolute.startswith(("http://", "https://")):
                links.append(normalize(absolute))
    canonical = None
    for node in tree.css("link[rel][href]"):
        if "canonical" in str(node.attributes.get("rel") or "").lower().split():
            canonical = normalize(urljoin(base, str(node.attributes.get("href") or "")))
            break
    return links, canonical


def sitemap_urls(data: bytes) -> tuple[list[str], list[str]]:
    """The page URLs and the nested sitemap URLs of a sitemap or sitemap index."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise InvalidInput(f"the sitemap is not XML: {exc}") from None
    pages: list[str] = []
    nested: list[str] = []
    for node in root:
        loc = next((c.text for c in node if c.tag.endswith("loc") and c.text), None)
        if loc is None:
            continue
        (nested if node.tag.endswith("sitemap") else pages).append(loc.strip())
    return pages, nested


def extract_main(html: bytes, url: str) -> bytes | None:
    """The page's main content as Markdown (title first), or None without ``trafilatura`` or
    when it finds nothing."""
    try:
        import trafilatura
    except ImportError:
        return None
    text = trafilatura.extract(html, url=url, output_format="markdown", include_comments=False,
                               include_tables=True, with_metadata=False)
    if not text:
        return None
    meta = trafilatura.extract_metadata(html)
    title = getattr(meta, "title", None) if meta is not None else None
    head = f"# {title}\n\n" if title and not text.lstrip().startswith("#") else ""
    return (head + text).encode()


def _version(fetched: Fetched, digest: str) -> str:
    etag = fetched.headers.get("etag")
    if etag:
        return f"etag:{etag}"
    modified = fetched.headers.get("last-modified")
    if modified:
        return f"modified:{modified}"
    return f"sha256:{digest}"


def _modified(fetched: Fetched) -> str | None:
    value = fetched.headers.get("last-modified")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError):
        return None


def _name(url: str, ext: str) -> str:
    stem = PurePosixPath(urlsplit(url).path).name or "index"
    stem = re.sub(r"[^\w.-]+", "_", stem)[:100]
    return stem if stem.lower().endswith(f".{ext}") else f"{stem}.{ext}"


class WebConnector:
    """Crawls one site (see the module docstring)."""

    def __init__(self, config: WebConfig, context: ConnectorContext) -> None:
        if not config.start_urls and not config.sitemaps:
            raise InvalidInput("a web source has start_urls, sitemaps, or both")
        allowed = ["0.0.0.0/0", "::/0"] if context.allow_private_urls else []
        self._policy = UrlPolicy([*context.allowed_hosts, *allowed])
        for url in [*config.start_urls, *config.sitemaps]:
            check_url(url, self._policy)
        self._config = config
        self._context = context
        self._sites = {site_of(u) for u in [*config.start_urls, *config.sitemaps]}
        self._robots: dict[str, RobotFileParser | None] = {}
        self._pace: dict[str, _Pace] = {}  # per host
        self._clients: dict[str, httpx.Client] = {}  # per host, kept for the whole crawl
        self._lock = threading.Lock()
        self._dir = tempfile.TemporaryDirectory(prefix="zhiku-web-")
        self._bodies: dict[str, tuple[Path, str, str]] = {}  # id → body, content type, url
        self._errors: dict[str, ZhikuError] = {}

    # -- fetching -------------------------------------------------------------------------
    def _get(self, url: str) -> Fetched:
        """GET through the URL guard, once the host's pace allows, on the host's client."""
        host = urlsplit(url).netloc
        with self._lock:
            pace = self._pace.setdefault(host, _Pace(self._config.delay_s))
            client = self._clients.get(host)
            if client is None:
                client = self._clients[host] = guarded_client(self._context.timeout_s,
                                                              self._config.concurrency)
        with pace.turn():
            try:
                return fetch(url, self._policy, max_bytes=self._context.max_item_bytes,
                             timeout=self._context.timeout_s,
                             deadline=max(self._context.timeout_s * 3, 60.0), client=client)
            except httpx.HTTPError as exc:  # a dropped connection: this page's error alone
                raise SourceUnreachable(f"{url}: {type(exc).__name__}: {exc}") from exc

    def _allowed(self, url: str) -> bool:
        if not self._config.robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._read_robots(origin)
        robots = self._robots[origin]
        return robots is None or robots.can_fetch(USER_AGENT, url)

    def _read_robots(self, origin: str) -> RobotFileParser | None:
        """robots.txt of an origin; None (everything allowed) when it has none."""
        parser = RobotFileParser(f"{origin}/robots.txt")
        try:
            got = self._get(f"{origin}/robots.txt")
        except HttpStatus as exc:
            if 400 <= exc.answered < 500:
                return None
            parser.parse(["User-agent: *", "Disallow: /"])  # unavailable: crawl nothing
            return parser
        except ZhikuError:
            parser.parse(["User-agent: *", "Disallow: /"])
            return parser
        parser.parse(got.data.decode("utf-8", "replace").splitlines())
        asked = parser.crawl_delay(USER_AGENT)
        if asked is not None:
            self._pace[urlsplit(origin).netloc].slow_to(min(float(asked), 60.0))
        return parser

    def _in_scope(self, url: str) -> bool:
        if site_of(url) not in self._sites:
            return False
        path = urlsplit(url).path or "/"
        if self._config.include and not any(path.startswith(p) for p in self._config.include):
            return False
        return not any(path.startswith(p) for p in self._config.exclude)

    def _seeds(self) -> list[str]:
        seeds = [normalize(u) for u in self._config.start_urls]
        todo = deque(self._config.sitemaps)
        seen: set[str] = set()
        while todo and len(seen) < 100:
            url = normalize(todo.popleft())
            if url in seen:
                continue
            seen.add(url)
            got = self._get(url)  # a sitemap that cannot be read fails the listing
            pages, nested = sitemap_urls(got.data)
            seeds.extend(normalize(p) for p in pages)
            todo.extend(n for n in nested if site_of(n) in self._sites)
        return seeds

    # -- the connector --------------------------------------------------------------------
    def items(self) -> Iterator[SourceItem]:
        """The site's pages, crawled breadth first (see the module docstring). Up to
        ``concurrency`` pages are fetched at once, ahead of the one being read; pages are
        read in the order they were queued, so the crawl lists what a one-at-a-time crawl
        would."""
        queue: deque[tuple[str, int]] = deque((u, 0) for u in self._seeds())
        queued = {u for u, _ in queue}
        listed: set[str] = set()
        hashes: set[str] = set()
        pages = 0
        window: deque[tuple[str, int, Future[Fetched]]] = deque()
        with ThreadPoolExecutor(self._config.concurrency, "zhiku-crawl") as pool:
            try:
                while True:
                    while (queue and pages < self._config.max_pages
                           and len(window) < self._config.concurrency):
                        url, depth = queue.popleft()
                        if self._in_scope(url) and self._allowed(url):
                            pages += 1
                            window.append((url, depth, pool.submit(self._get, url)))
                    if not window:
                        return
                    url, depth, pending = window.popleft()
                    try:
                        got = pending.result()
                    except HttpStatus as exc:
                        if exc.answered not in GONE:
                            yield self._failed(url, exc)
                        continue
                    except ZhikuError as exc:
                        yield self._failed(url, exc)
                        continue
                    item = self._read(got, depth, queue, queued, listed, hashes)
                    if item is not None:
                        yield item
            finally:
                for _, _, pending in window:
                    pending.cancel()

    def _read(self, got: Fetched, depth: int, queue: deque[tuple[str, int]], queued: set[str],
              listed: set[str], hashes: set[str]) -> SourceItem | None:
        """Queue a fetched page's links; its item, unless it is off the site, not a kind of
        document, or a page already listed (by canonical URL or by content)."""
        final = normalize(got.url)
        if not self._in_scope(final):
            return None  # redirected off the site
        page_id = final
        if _TYPES.get(got.content_type) == "html":
            links, canonical = page_links(got.data, final)
            if canonical is not None and self._in_scope(canonical):
                page_id = canonical
            if depth < self._config.max_depth:
                for link in links:
                    if link not in queued and self._in_scope(link):
                        queued.add(link)
                        queue.append((link, depth + 1))
        digest = hashlib.sha256(got.data).hexdigest()
        if page_id in listed or digest in hashes or got.content_type not in _TYPES:
            return None
        listed.add(page_id)
        hashes.add(digest)
        return self._item(page_id, got, digest)

    def _failed(self, url: str, exc: ZhikuError) -> SourceItem:
        """A page listed with the error its fetch raises."""
        self._errors[url] = exc
        return SourceItem(id=url, version=f"error:{exc.message}", name=_name(url, "html"),
                          metadata={"url": url})

    def _item(self, page_id: str, got: Fetched, digest: str) -> SourceItem:
        path = Path(self._dir.name) / f"{len(self._bodies)}"
        path.write_bytes(got.data)
        self._bodies[page_id] = (path, got.content_type, got.url)
        ext = _TYPES[got.content_type]
        if ext == "html" and self._config.main_content and _has_trafilatura():
            ext = "md"
        meta: dict[str, Any] = {"url": page_id, "content_type": got.content_type}
        modified = _modified(got)
        if modified:
            meta["modified"] = modified
        return SourceItem(id=page_id, version=_version(got, digest), name=_name(page_id, ext),
                          size=len(got.data), metadata=meta)

    def fetch(self, item: SourceItem) -> bytes:
        """The page as listed: its main content as Markdown, or its body."""
        if item.id in self._errors:
            raise self._errors[item.id]
        if item.id not in self._bodies:
            raise InvalidInput(f"'{item.id}' was not listed by this crawl")
        path, ctype, url = self._bodies[item.id]
        data = path.read_bytes()
        if item.name.endswith(".md") and _TYPES.get(ctype) == "html":
            main = extract_main(data, url)
            return main if main is not None else _plain_text(data)
        return data

    def close(self) -> None:
        """Close the connections and delete the kept bodies."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self._dir.cleanup()


class _Pace:
    """One host's politeness: with a delay, requests go one at a time, each starting at
    least ``delay`` seconds after the one before it ended; without one they run freely."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._last_end = 0.0
        self._turn = threading.Lock()

    def slow_to(self, delay: float) -> None:
        """Raise the delay to ``delay`` (a robots.txt Crawl-delay)."""
        self._delay = max(self._delay, delay)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the host for one request (when it has a delay) and note when it ended."""
        if self._delay <= 0:
            try:
                yield
            finally:
                self._last_end = time.monotonic()
            return
        with self._turn:
            wait = self._last_end + self._delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                self._last_end = time.monotonic()


def _plain_text(html: bytes) -> bytes:
    """The text of a page where no main content was found (as Markdown's plain paragraphs)."""
    from selectolax.lexbor import LexborHTMLParser

    body = LexborHTMLParser(html).body
    return (body.text(separator="\n") if body is not None else "").encode()


def _has_trafilatura() -> bool:
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        return False
    return True


def _open(config: BaseModel, secrets: dict[str, str],
          context: ConnectorContext) -> WebConnector:
    assert isinstance(config, WebConfig)
    return WebConnector(config, context)


SPEC = ConnectorSpec(
    kind="web",
    config_model=WebConfig,
    open=_open,
    description="the pages of a web site, crawled from start URLs and/or sitemaps",
)
