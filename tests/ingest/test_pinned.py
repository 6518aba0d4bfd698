"""Connections pinned to the address the URL guard checked: a host name whose DNS answer changes
after the check (rebinding) never gets a request to the new address. A real HTTP server on
127.0.0.1; the only stand-in is the resolver the policy is given, which answers 127.0.0.1
first and the cloud metadata address afterwards."""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from scripted_llm import Script, running_scripted
from zhiku.chat.providers import ProviderRegistry
from zhiku.ingest.fetch import BlockedAddress, IPAddress, UrlPolicy
from zhiku.ingest.pinned import pinned_async_transport, pinned_transport
from zhiku.models.llm.config import ProviderConfig
from zhiku.models.llm.secrets import SecretBox
from zhiku.service import Zhiku

HOST = "rebind.invalid"  # no DNS answers this name: only the injected resolver does


class Flipping:
    """A resolver that answers 127.0.0.1 ``first`` times, then 169.254.169.254."""

    def __init__(self, first: int = 1) -> None:
        self.first = first
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        answer = "127.0.0.1" if len(self.calls) <= self.first else "169.254.169.254"
        return [ipaddress.ip_address(answer)]


@pytest.fixture
def server() -> Iterator[dict[str, Any]]:
    """A 127.0.0.1 server that records each request's Host header and closes every
    connection (so each request needs a new one)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.headers["Host"])
            body = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"port": httpd.server_address[1], "seen": seen}
    finally:
        httpd.shutdown()
        httpd.server_close()


def _policy(resolver: Flipping) -> UrlPolicy:
    return UrlPolicy(["127.0.0.1"], resolver=resolver)


def test_a_connection_goes_to_the_checked_address_and_a_rebound_name_is_refused(
        server: dict[str, Any]) -> None:
    resolver = Flipping()
    url = f"http://{HOST}:{server['port']}/ping"
    with httpx.Client(transport=pinned_transport(_policy(resolver))) as client:
        assert client.get(url).json() == {"ok": True}
        assert resolver.calls == [HOST]  # resolved once, by the guard, for that connection
        assert server["seen"] == [f"{HOST}:{server['port']}"]  # the name in the Host header
        with pytest.raises(BlockedAddress, match="internal address"):
            client.get(url)  # a new connection: the name now answers the metadata address
    assert len(server["seen"]) == 1 and resolver.calls == [HOST, HOST]


def test_the_async_transport_is_pinned_the_same_way(server: dict[str, Any]) -> None:
    anyio = pytest.importorskip("anyio")
    httpx2 = pytest.importorskip("httpx2")
    resolver = Flipping()
    url = f"http://{HOST}:{server['port']}/ping"

    async def twice() -> tuple[Any, BaseException | None]:
        async with httpx2.AsyncClient(transport=pinned_async_transport(_policy(resolver))) as c:
            first = (await c.get(url)).json()
            try:
                await c.get(url)
            except BlockedAddress as exc:
                return first, exc
            return first, None

    first, refused = anyio.run(twice)
    assert first == {"ok": True} and isinstance(refused, BlockedAddress)
    assert server["seen"] == [f"{HOST}:{server['port']}"] and resolver.calls == [HOST, HOST]


def test_a_provider_configured_over_http_calls_only_the_checked_address(zk: Zhiku) -> None:
    """A provider stored with ``url_guard`` (what the HTTP API sets) reaches the scripted
    server through the name the guard resolved; rebound, its next connection is refused. One
    stored from the CLI (no guard) is left to the system's resolver."""
    with running_scripted() as scripted:
        port = scripted.url.split(":")[2].split("/")[0]
        stored = ProviderConfig(name="guarded", base_url=f"http://{HOST}:{port}/v1",
                                models=["m"], url_guard=True)
        zk.llm.providers.add(stored, None)
        scripted.push(Script(text="pinned"))
        resolver = Flipping()
        registry = ProviderRegistry(zk.db, zk.workspace_id, SecretBox(zk.settings.home),
                                    _policy(resolver))
        reply = registry.model("guarded/m").complete([{"role": "user", "content": "q"}])
        assert reply.text == "pinned" and resolver.calls == [HOST]
        assert scripted.headers[-1]["Host"] == f"{HOST}:{port}"
        again = ProviderRegistry(zk.db, zk.workspace_id, SecretBox(zk.settings.home),
                                 _policy(resolver))
        with pytest.raises(BlockedAddress):
            again.model("guarded/m").complete([{"role": "user", "content": "q"}])
        registry.close()
        again.close()
    assert registry.transport(ProviderConfig(name="cli", base_url="http://x/v1")) is None


def test_the_http_api_path_marks_providers_guarded(zk: Zhiku) -> None:
    """``url_policy`` (the HTTP API's) stores ``url_guard``; the CLI's path does not, and
    nobody can set it as a setting."""
    policy = UrlPolicy(["127.0.0.1"])
    over_http = zk.providers.add("web", base_url="http://127.0.0.1:9/v1", models=["m"],
                                 url_policy=policy)
    local = zk.providers.add("local", base_url="http://127.0.0.1:9/v1", models=["m"])
    assert over_http.url_guard and not local.url_guard
    assert not zk.providers.update("local", price_input=1.0, url_policy=policy).url_guard
    assert zk.providers.update("local", base_url="http://127.0.0.1:8/v1",
                               url_policy=policy).url_guard
    with pytest.raises(Exception, match="url_guard"):
        zk.providers.update("web", url_guard=False)
