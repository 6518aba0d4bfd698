"""Fetching a URL for ingestion without letting callers reach internal addresses (SSRF).

Every hop (the first URL and each redirect) is resolved with DNS, and every address it resolves
to must be public: loopback, private, link-local (cloud metadata at 169.254.169.254 included),
carrier-grade NAT, multicast, reserved and unspecified addresses are refused unless the
allow-list names the host, the host:port, or a CIDR range holding the address. The request then
connects to the address that was checked (the Host header and TLS SNI keep the name), so a DNS
answer that changes between check and connect (rebinding) cannot slip through. IPv6 addresses
that carry an IPv4 address (mapped, 6to4, Teredo, NAT64) are internal when the IPv4 one is.

A fetch has a deadline for the whole of it (every hop and the body) besides the per-read
timeout, so a server that drips a byte at a time cannot hold a worker for long.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import httpx

from zhiku.core.errors import InvalidInput, PayloadTooLarge
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the IPv4 address is the last 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # site-specific translation


class BlockedAddress(InvalidInput):
    """The URL resolves to an address that ingestion may not reach."""

    kind = "blocked_url"


class FetchTimeout(InvalidInput):
    """The URL did not answer, or did not finish sending, in time (fetching again is no help)."""

    kind = "url_timeout"


class HttpStatus(InvalidInput):
    """The URL answered with an HTTP error status (``answered``)."""

    def __init__(self, message: str, answered: int) -> None:
        super().__init__(message)
        self.answered = answered


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched resource (``headers``: the final response's, names in lower case)."""

    url: str
    data: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a packet to ``addr`` can end up at: 6to4 (2002::/16), Teredo (its
    server and client) and NAT64 (64:ff9b::/96) addresses carry them."""
    out: list[ipaddress.IPv4Address] = []
    if addr.sixtofour is not None:
        out.append(addr.sixtofour)
    if addr.teredo is not None:
        out.extend(addr.teredo)
    if addr in _NAT64:
        out.append(ipaddress.IPv4Address(int(addr) & 0xFFFF_FFFF))
    return out


def is_internal(addr: IPAddress) -> bool:
    """Whether ``addr`` is anything but a public unicast address."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:  # the IPv4 address itself, spelled as IPv6
            return is_internal(addr.ipv4_mapped)
        if addr in _NAT64_LOCAL or any(is_internal(v4) for v4 in embedded_ipv4(addr)):
            return True
    return (
        addr in _METADATA
        or addr.is_loopback
        or addr.is_private
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or (isinstance(addr, ipaddress.IPv4Address) and addr in _CGNAT)
    )


Resolver = Callable[[str, int], list[IPAddress]]
"""(host, port) → every address the name has: DNS by default (tests inject their own)."""


class UrlPolicy:
    """Decides which resolved addresses a fetch may connect to (``resolver``: how a name is
    looked up)."""

    def __init__(self, allowlist: Sequence[str] = (), resolver: Resolver | None = None) -> None:
        self._resolver: Resolver = resolver or _lookup
        self._hosts: set[str] = set()
        self._nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allowlist:
            try:
                self._nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(entry.lower())

    def allowed(self, host: str, port: int, addr: IPAddress) -> bool:
        """Whether connecting to ``addr`` for ``host:port`` is permitted."""
        if not is_internal(addr):
            return True
        host = host.lower()
        if host in self._hosts or f"{host}:{port}" in self._hosts:
            return True
        if f"{addr}:{port}" in self._hosts or str(addr) in self._hosts:
            return True
        return any(addr in net for net in self._nets)

    def resolve(self, host: str, port: int) -> IPAddress:
        """The first address of ``host``, after checking every address it resolves to. An IP
        literal (an IPv6 one with or without its URL brackets) is its own address."""
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        literal = _ip_literal(host)
        addrs = [literal] if literal is not None else self._resolver(host, port)
        for addr in addrs:
            if not self.allowed(host, port, addr):
                raise BlockedAddress(f"refusing to fetch '{host}': it is an internal address")
        return addrs[0]


def _ip_literal(host: str) -> IPAddress | None:
    """``host`` as an address when it is written as one (a zone index is dropped)."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def _lookup(host: str, port: int) -> list[IPAddress]:
    """Every address DNS (or the hosts file) gives ``host``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidInput(f"cannot resolve host '{host}'") from exc
    addrs = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addrs:
        raise InvalidInput(f"cannot resolve host '{host}'")
    return addrs


class _Deadline:
    """The end of a whole fetch. It bounds each hop's timeouts, and when it passes it shuts
    down the sockets the fetch opened: that ends a read a server keeps alive byte by byte."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._passed = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def passed(self) -> bool:
        """Whether the deadline has passed."""
        return self._passed or time.monotonic() >= self._end

    def left(self) -> float:
        """Seconds left; raises ``FetchTimeout`` when none are."""
        left = self._end - time.monotonic()
        if left <= 0 or self._passed:
            raise self.error()
        return left

    def error(self) -> FetchTimeout:
        """The error of a fetch that ran out of time."""
        return FetchTimeout(f"fetching the URL took longer than {self.seconds:g} seconds")

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: note the socket of every connection (TCP, then TLS)."""
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        sock = info["return_value"].get_extra_info("socket")
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            passed = self._passed
        if passed:
            _shut(sock)

    def cancel(self) -> None:
        """The fetch is over: stop the timer."""
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self._passed = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


@contextmanager
def _time_limits(timeout: float, deadline: float) -> Iterator[_Deadline]:
    """A deadline for a fetch; running out of time, either way, raises ``FetchTimeout``."""
    end = _Deadline(deadline)
    try:
        yield end
    except httpx.TimeoutException as exc:
        if end.passed:
            raise end.error() from exc
        raise FetchTimeout(f"the URL did not answer within {timeout:g} seconds") from exc
    except httpx.HTTPError:
        if end.passed:  # the deadline shut the connection down
            raise end.error() from None
        raise
    finally:
        end.cancel()


def _shut(sock: socket.socket) -> None:
    """Shut a socket down (waking a thread blocked reading it); a TLS socket's own
    ``shutdown`` would first drop its TLS state, so the plain socket's method is called."""
    with suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def check_url(url: str, policy: UrlPolicy) -> None:
    """Refuse ``url`` now unless it is http(s) without credentials and its host resolves to
    addresses ``policy`` allows (``fetch`` checks every hop again)."""
    _checked(urlsplit(url), policy)


def _checked(parts: SplitResult, policy: UrlPolicy) -> tuple[str, int, IPAddress]:
    """The host, port and checked address of a URL to fetch."""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("only http and https URLs can be ingested")
    if parts.username or parts.password:
        raise InvalidInput("URLs with credentials are not accepted")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput("the URL's port is not a valid port number") from None
    return parts.hostname, port, policy.resolve(parts.hostname, port)


def fetch(
    url: str,
    policy: UrlPolicy,
    *,
    max_bytes: int,
    max_redirects: int = 5,
    timeout: float = 20.0,
    deadline: float = 60.0,
    client: httpx.Client | None = None,
) -> Fetched:
    """GET ``url`` under ``policy``, following redirects hop by hop; the body is size-capped.
    ``timeout`` bounds connecting and each read, ``deadline`` the whole fetch; running out of
    either raises ``FetchTimeout``. ``client`` (from ``guarded_client``): one to reuse for
    the hops on ``url``'s own host, which keeps connections open between fetches; a pooled
    connection is keyed by the checked address it was opened to, so one client serves one
    host name (TLS was verified for it). Other hops, and every hop by default, use a client of
    this fetch alone."""
    current = url
    first_host = urlsplit(url).hostname
    with _time_limits(timeout, deadline) as end, ExitStack() as stack:
        own: httpx.Client | None = None
        for _hop in range(max_redirects + 1):
            parts = urlsplit(current)
            host, port, addr = _checked(parts, policy)
            if client is not None and host == first_host:
                http = client
            else:
                if own is None:
                    own = stack.enter_context(guarded_client(timeout))
                http = own
            left = end.left()
            netloc = f"[{addr}]:{port}" if addr.version == 6 else f"{addr}:{port}"
            pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
            name = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
            host_header = name if parts.port is None else f"{name}:{parts.port}"
            request = http.build_request(
                "GET",
                pinned,
                headers={"Host": host_header, "User-Agent": "zhiku-ingest/1"},
                timeout=min(timeout, left),
                extensions={"sni_hostname": host, "trace": end.trace},
            )
            response = http.send(request, stream=True)
            try:
                if response.is_redirect or response.status_code >= 400:
                    _drain(response, end)
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    if not location:
                        raise InvalidInput("redirect without a Location header")
                    current = urljoin(current, location)
                    continue
                if response.status_code >= 400:
                    raise HttpStatus(f"the URL answered HTTP {response.status_code}",
                                     response.status_code)
                data = _read_capped(response, max_bytes, end)
                ctype = response.headers.get("content-type", "application/octet-stream")
                headers = {k.lower(): v for k, v in response.headers.items()}
                return Fetched(current, data, ctype.split(";")[0].strip().lower(), headers)
            finally:
                response.close()
    raise InvalidInput(f"more than {max_redirects} redirects")


def _drain(response: httpx.Response, end: _Deadline) -> None:
    """Read a short body that is not wanted (a redirect's, an error page's), so a reused
    client can send its next request on the same connection; a long one is left unread."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) <= 65536:
        with suppress(httpx.HTTPError):
            for _ in response.iter_bytes():
                end.left()


def guarded_client(timeout: float, connections: int = 10) -> httpx.Client:
    """An HTTP client for ``fetch``: no redirects followed by itself, no proxy from the
    environment, at most ``connections`` open at once."""
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                        limits=httpx.Limits(max_connections=connections,
                                            max_keepalive_connections=connections))


def _read_capped(response: httpx.Response, max_bytes: int, end: _Deadline) -> bytes:
    """The body, at most ``max_bytes`` of it, read before the deadline passes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"the resource is over {max_bytes:,} bytes")
    out = bytearray()
    for piece in response.iter_bytes():
        end.left()
        out += piece
        if len(out) > max_bytes:
            raise PayloadTooLarge(f"the resource is over {max_bytes:,} bytes")
    end.left()  # a body cut short by the deadline is not a whole one
    return bytes(out)


_EXTENSIONS = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/csv": "csv",
    "application/json": "json",
    "application/pdf": "pdf",
}

Fetcher = Callable[[str], tuple[bytes, str, str]]  # url → (data, content type, final url)


def url_fetcher(settings: Settings) -> Fetcher:
    """The SSRF-guarded fetcher ``settings`` configure."""
    policy = UrlPolicy(settings.api_url_allowlist)

    def fetch_url(url: str) -> tuple[bytes, str, str]:
        got = fetch(
            url,
            policy,
            max_bytes=settings.max_file_bytes,
            max_redirects=settings.api_url_max_redirects,
            timeout=settings.api_url_timeout,
            deadline=settings.api_url_deadline,
        )
        return got.data, got.content_type, got.url

    return fetch_url


def url_source(url: str, content_type: str) -> str:
    """The document source of a fetched URL; a fragment names the format when the path has none.

    Parsers are chosen by extension, and ``https://host/page`` has none.
    """
    parts = urlsplit(url)
    suffix = PurePosixPath(parts.path).suffix.lower().lstrip(".")
    if suffix in _EXTENSIONS.values() or suffix in ("htm", "markdown", "jsonl", "docx", "xlsx"):
        return urlunsplit((*parts[:4], ""))
    ext = _EXTENSIONS.get(content_type, "html")
    return urlunsplit((*parts[:4], f"zhiku.{ext}"))


def is_url(source: object) -> bool:
    """Whether an ingest source names a URL (http or https) rather than a path."""
    return isinstance(source, str) and source[:8].lower().startswith(("http://", "https://"))


def fetched_item(url: str, fetched: tuple[bytes, str, str],
                 metadata: dict[str, Any] | None = None) -> SourceItem:
    """The ingest item of a fetched URL: named by its final URL, ``url`` in its metadata."""
    data, content_type, final = fetched
    return SourceItem(url_source(final, content_type), data=data,
                      metadata={"url": url, **dict(metadata or {})})


def url_items(urls: Sequence[str], settings: Settings,
              metadata: dict[str, Any] | None = None) -> Iterator[SourceItem]:
    """Items fetching each URL when the pipeline reaches it; every URL is checked against the
    allow-list before this returns, so an internal address is refused before any work."""
    policy = UrlPolicy(settings.api_url_allowlist)
    for url in urls:
        check_url(url, policy)
    fetch_url = url_fetcher(settings)
    return (fetched_item(url, fetch_url(url), metadata) for url in urls)
