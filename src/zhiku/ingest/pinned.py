"""HTTP connections pinned to the address the URL guard checked.

A client that checks a host's addresses and then lets its HTTP library resolve the name again
leaves a window: a DNS answer that changes in between (rebinding) sends the request to an
internal address the check refused. These transports close it at the socket: each new
connection resolves the host once, through ``UrlPolicy.resolve`` (every address checked), and
connects to the address that passed. The URL keeps its host name, so the Host header and TLS
(SNI and certificate checks) are those of the name. No proxy is taken from the environment: a
proxy would resolve the name itself.

``pinned_transport`` is for the synchronous clients (model providers), ``pinned_async_transport``
for the MCP SDK's client (``httpx2``, an optional extra).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from zhiku.core.errors import InvalidInput
from zhiku.ingest.fetch import BlockedAddress, UrlPolicy

if TYPE_CHECKING:
    import httpx2


def _vetted(policy: UrlPolicy, host: str, port: int, failed: type[Exception]) -> str:
    """The checked address to connect to for ``host:port``. A refused address is a
    ``BlockedAddress``; a name that does not resolve is the HTTP library's own connect error
    ``failed``, as it would be without the guard."""
    try:
        return str(policy.resolve(host, port))
    except BlockedAddress:
        raise
    except InvalidInput as exc:
        raise failed(exc.message) from None


class _PinnedBackend(httpcore.NetworkBackend):
    """httpcore's socket layer with the guard's resolution in front of each connect."""

    def __init__(self, policy: UrlPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        """Connect to the checked address of ``host`` (one resolution per connection)."""
        addr = _vetted(self._policy, host, port, httpcore.ConnectError)
        return self._inner.connect_tcp(addr, port, timeout=timeout,
                                       local_address=local_address,
                                       socket_options=socket_options)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        """Unix sockets are no URL's address: refused."""
        raise BlockedAddress("a guarded client connects to TCP addresses only")

    def sleep(self, seconds: float) -> None:
        """As the plain backend."""
        self._inner.sleep(seconds)


def pinned_transport(policy: UrlPolicy, **options: Any) -> httpx.HTTPTransport:
    """An ``httpx`` transport whose every connection goes to an address ``policy`` allows,
    the one it checked (``options``: ``HTTPTransport``'s, e.g. ``limits``)."""
    transport = httpx.HTTPTransport(trust_env=False, **options)
    pool = transport._pool
    assert isinstance(pool, httpcore.ConnectionPool)  # no proxy: trust_env is off
    pool._network_backend = _PinnedBackend(policy)
    return transport


def pinned_async_transport(policy: UrlPolicy) -> httpx2.AsyncHTTPTransport:
    """The same for ``httpx2``'s asynchronous client (the MCP SDK's); the guard's resolution
    runs in a worker thread, off the event loop."""
    import anyio
    import httpcore2
    import httpx2

    class _AsyncPinnedBackend(httpcore2.AsyncNetworkBackend):
        def __init__(self) -> None:
            self._inner = httpcore2.AnyIOBackend()

        async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                              local_address: str | None = None,
                              socket_options: Iterable[Any] | None = None
                              ) -> httpcore2.AsyncNetworkStream:
            addr = await anyio.to_thread.run_sync(
                _vetted, policy, host, port, httpcore2.ConnectError)
            return await self._inner.connect_tcp(addr, port, timeout=timeout,
                                                 local_address=local_address,
                                                 socket_options=socket_options)

        async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                      socket_options: Iterable[Any] | None = None
                                      ) -> httpcore2.AsyncNetworkStream:
            raise BlockedAddress("a guarded client connects to TCP addresses only")

        async def sleep(self, seconds: float) -> None:
            await self._inner.sleep(seconds)

    transport = httpx2.AsyncHTTPTransport(trust_env=False)
    pool = transport._pool
    assert isinstance(pool, httpcore2.AsyncConnectionPool)
    pool._network_backend = _AsyncPinnedBackend()
    return transport
