"""Tools from an OpenAPI 3 spec, against a real HTTP API on 127.0.0.1: operations become tools
with JSON schemas, calls carry the stored (encrypted, never shown) auth header, go through the
SSRF guard, and are bounded by a time-out and a size cap."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from scripted_llm import Script
from zhiku.core.errors import InvalidInput, PayloadTooLarge
from zhiku.ingest.fetch import BlockedAddress, UrlPolicy
from zhiku.service import Zhiku
from zhiku.tools.openapi import OpenAPISettings, operations

TOKEN = "Bearer s3cret-token-0123456789"

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1"},
    "paths": {
        "/pets/{petId}": {
            "parameters": [{"name": "petId", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "get": {"operationId": "getPet", "summary": "One pet by id",
                    "parameters": [{"name": "verbose", "in": "query",
                                    "schema": {"type": "boolean"}}]},
        },
        "/pets": {
            "post": {"operationId": "createPet", "summary": "Add a pet",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/Pet"}}}}},
        },
        "/big": {"get": {"operationId": "big"}},
        "/slow": {"get": {"operationId": "slow"}},
    },
    "components": {"schemas": {"Pet": {"type": "object", "properties": {
        "name": {"type": "string"}}, "required": ["name"]}}},
}


class PetApi:
    """The API the spec describes; it refuses requests without the right token."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _check(self) -> bool:
                api.seen.append({"path": self.path, "method": self.command,
                                 "headers": dict(self.headers)})
                if self.headers.get("Authorization") != TOKEN:
                    self._send(401, b'{"error": "unauthorized"}')
                    return False
                return True

            def do_GET(self) -> None:
                if not self._check():
                    return
                if self.path.startswith("/pets/"):
                    self._send(200, json.dumps({"id": self.path[6:], "name": "Rex"}).encode())
                elif self.path == "/big":
                    self._send(200, b"x" * 300_000, "text/plain")
                elif self.path == "/slow":
                    time.sleep(3)
                    self._send(200, b"{}")
                else:
                    self._send(404, b'{"error": "no such path"}')

            def do_POST(self) -> None:
                if not self._check():
                    return
                data = self.rfile.read(int(self.headers.get("content-length", 0)))
                self._send(201, json.dumps({"created": json.loads(data)}).encode())

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def api() -> Iterator[PetApi]:
    server = PetApi()
    yield server
    server.stop()


def tools_of(api: PetApi, **settings: Any) -> dict[str, Any]:
    opts = OpenAPISettings(api.url, **settings)
    found = operations("pets", SPEC, opts, {"Authorization": TOKEN}, UrlPolicy(["127.0.0.1"]))
    return {t.name: t for t in found}


def test_each_operation_is_a_tool_with_a_schema(api: PetApi) -> None:
    tools = tools_of(api)
    assert sorted(tools) == ["pets__big", "pets__createPet", "pets__getPet", "pets__slow"]
    get = tools["pets__getPet"]
    assert get.description == "One pet by id"
    assert get.parameters == {"type": "object", "required": ["petId"], "properties": {
        "petId": {"type": "integer"}, "verbose": {"type": "boolean"}}}
    create = tools["pets__createPet"].parameters
    assert create["properties"]["body"]["required"] == ["name"]  # the $ref is resolved
    assert create["required"] == ["body"]


def test_calls_reach_the_api_with_the_auth_header(api: PetApi) -> None:
    tools = tools_of(api)
    assert tools["pets__getPet"].call({"petId": 7, "verbose": True}) == \
        {"status": 200, "json": {"id": "7?verbose=true", "name": "Rex"}}
    assert tools["pets__createPet"].call({"body": {"name": "Tom"}}) == \
        {"status": 201, "json": {"created": {"name": "Tom"}}}
    assert api.seen[-1]["headers"]["Authorization"] == TOKEN
    with pytest.raises(InvalidInput, match="'petId' is required"):
        tools["pets__getPet"].call({})


def test_limits_and_the_ssrf_guard(api: PetApi) -> None:
    with pytest.raises(PayloadTooLarge):
        tools_of(api, max_bytes=100_000)["pets__big"].call({})
    start = time.perf_counter()
    with pytest.raises(InvalidInput, match=r"did not answer within 0\.5 s"):
        tools_of(api, timeout_s=0.5)["pets__slow"].call({})
    assert time.perf_counter() - start < 2.5
    guarded = operations("pets", SPEC, OpenAPISettings(api.url), {}, UrlPolicy())
    with pytest.raises(BlockedAddress):
        guarded[0].call({"petId": 1})


def test_an_error_status_never_shows_the_token(api: PetApi) -> None:
    wrong = operations("pets", SPEC, OpenAPISettings(api.url), {"Authorization": "Bearer bad"},
                       UrlPolicy(["127.0.0.1"]))
    with pytest.raises(InvalidInput, match="HTTP 401") as err:
        wrong[0].call({"petId": 1})
    assert "bad" not in str(err.value).replace("unauthorized", "")


def test_bad_specs_are_refused(zk: Zhiku) -> None:
    with pytest.raises(InvalidInput, match="not an OpenAPI 3"):
        zk.agents.add_openapi("x", {"swagger": "2.0", "paths": {}})
    with pytest.raises(InvalidInput, match="names no server"):
        zk.agents.add_openapi("x", {"openapi": "3.1.0", "paths": {}})
    with pytest.raises(InvalidInput, match="tool source name"):
        zk.agents.add_openapi("bad_name", SPEC, base_url="http://127.0.0.1:1")


def test_a_registered_spec_serves_an_agent(zk: Zhiku, api: PetApi, scripted: Any,
                                           model: str) -> None:
    source = zk.agents.add_openapi("pets", SPEC, base_url=api.url,
                                   auth_headers={"Authorization": TOKEN})
    shown = json.dumps(source.to_dict())
    assert TOKEN not in shown and source.to_dict()["secret_names"] == ["Authorization"]
    db = zk.store.db  # type: ignore[attr-defined]
    raw = db.conn.execute("SELECT config, secrets_encrypted FROM tool_sources").fetchone()
    assert "s3cret" not in raw[0] and b"s3cret" not in bytes(raw[1])
    assert [t["name"] for t in zk.agents.tools("pets")][:2] == ["pets__getPet",
                                                                 "pets__createPet"]
    scripted.push(Script(text="", tool_calls=[("pets__getPet", '{"petId": 3}')]),
                  Script(text="Pet 3 is Rex."))
    result = zk.agents.run({"model": model, "tools": ["pets__getPet"]}, "Who is pet 3?")
    assert result.answer == "Pet 3 is Rex."
    assert result.tool_calls[0].result == {"status": 200, "json": {"id": "3", "name": "Rex"}}
    tool_spec = scripted.chat_requests[0]["tools"][0]["function"]
    assert tool_spec["name"] == "pets__getPet" and "petId" in tool_spec["parameters"]["properties"]
    assert TOKEN not in json.dumps(scripted.chat_requests)
