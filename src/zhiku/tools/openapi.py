"""Tools from an OpenAPI 3 spec: each operation (``operationId``, its parameters and JSON body)
becomes a tool named ``source__operationId`` with a JSON schema of its arguments.

Calls go through the SSRF guard (``tools.http.request``) with a time-out and a size cap. The
auth headers come from the source's encrypted secrets and are never returned or logged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from zhiku.core.errors import InvalidInput
from zhiku.ingest.fetch import UrlPolicy
from zhiku.tools.http import request

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(slots=True)
class OpenAPISettings:
    """A source's call settings: base URL (default: the spec's first server), limits."""

    base_url: str
    timeout_s: float = 30.0
    max_bytes: int = 1_000_000


def _resolve(spec: Mapping[str, Any], node: Any, depth: int = 0) -> Any:
    """``node`` with local ``$ref`` pointers (``#/components/...``) replaced, to a depth."""
    if depth > 12:
        return {}
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#/"):
                raise InvalidInput(f"only local $ref pointers are supported, got '{ref}'")
            target: Any = spec
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise InvalidInput(f"the spec's $ref '{ref}' points at nothing")
                target = target[part]
            return _resolve(spec, target, depth + 1)
        return {k: _resolve(spec, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(spec, v, depth + 1) for v in node]
    return node


class OperationTool:
    """One OpenAPI operation as a ``Tool``."""

    def __init__(self, source: str, method: str, path: str, op: dict[str, Any],
                 params: list[dict[str, Any]], settings: OpenAPISettings,
                 secret_headers: Mapping[str, str], policy: UrlPolicy) -> None:
        op_id = str(op.get("operationId") or f"{method}_{path}")
        self.operation_id = op_id
        self.name = (source + "__" + _NAME_BAD.sub("_", op_id))[:64]
        self.description = str(op.get("summary") or op.get("description") or
                               f"{method.upper()} {path}")[:1000]
        self._method = method.upper()
        self._path = path
        self._params = [p for p in params if p.get("in") in ("path", "query", "header")]
        self._settings = settings
        self._secret_headers = dict(secret_headers)
        self._policy = policy
        props: dict[str, Any] = {}
        required: list[str] = []
        for p in self._params:
            schema = dict(p.get("schema") or {"type": "string"})
            if p.get("description"):
                schema["description"] = str(p["description"])
            props[str(p["name"])] = schema
            if p.get("required") or p.get("in") == "path":
                required.append(str(p["name"]))
        body = (op.get("requestBody") or {})
        self._body_schema = ((body.get("content") or {}).get("application/json") or {}
                             ).get("schema")
        if self._body_schema is not None:
            props["body"] = self._body_schema
            if body.get("required"):
                required.append("body")
        self.parameters: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            self.parameters["required"] = required

    def call(self, args: Mapping[str, Any]) -> Any:
        """Send the request; a JSON answer is returned parsed, any other as text."""
        path = self._path
        query: dict[str, str] = {}
        headers: dict[str, str] = {}
        for p in self._params:
            name = str(p["name"])
            if name not in args:
                if p.get("required") or p.get("in") == "path":
                    raise InvalidInput(f"{self.name}: the argument '{name}' is required")
                continue
            value = args[name]
            text = value if isinstance(value, str) else json.dumps(value)
            if p["in"] == "path":
                path = path.replace("{" + name + "}", quote(text, safe=""))
            elif p["in"] == "query":
                query[name] = text
            elif name.lower() not in {h.lower() for h in self._secret_headers}:
                headers[name] = text
        body = None
        if self._body_schema is not None and "body" in args:
            body = json.dumps(args["body"], ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        url = self._settings.base_url.rstrip("/") + path
        if query:
            url += "?" + urlencode(query)
        headers.update(self._secret_headers)
        headers.setdefault("Accept", "application/json")
        got = request(self._method, url, self._policy, headers=headers, body=body,
                      timeout=self._settings.timeout_s, max_bytes=self._settings.max_bytes)
        text = got.data.decode("utf-8", errors="replace")
        if got.status >= 400:
            raise InvalidInput(f"{self.name}: the API answered HTTP {got.status}: {text[:300]}")
        if got.content_type.endswith("json"):
            try:
                return {"status": got.status, "json": json.loads(text)}
            except ValueError:
                pass
        return {"status": got.status, "text": text}


def operations(source: str, spec: Mapping[str, Any], settings: OpenAPISettings | None,
               secret_headers: Mapping[str, str], policy: UrlPolicy) -> list[OperationTool]:
    """Every operation of ``spec`` as a tool (an OpenAPI 3 document, as parsed JSON/YAML)."""
    version = str(spec.get("openapi") or "")
    if not version.startswith("3."):
        raise InvalidInput("the spec is not an OpenAPI 3 document (no 'openapi: 3.x')")
    if settings is None:
        servers = spec.get("servers") or []
        base = servers[0].get("url") if servers and isinstance(servers[0], dict) else None
        if not base:
            raise InvalidInput("the spec names no server: give a base URL")
        settings = OpenAPISettings(str(base))
    tools: list[OperationTool] = []
    for path, item in (spec.get("paths") or {}).items():
        item = _resolve(spec, item)
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            own = op.get("parameters") or []
            names = {(p.get("name"), p.get("in")) for p in own}
            params = [p for p in shared if (p.get("name"), p.get("in")) not in names] + own
            tools.append(OperationTool(source, method, str(path), op, params, settings,
                                       secret_headers, policy))
    seen: set[str] = set()
    for tool in tools:
        if tool.name in seen:
            raise InvalidInput(f"two operations of the spec make the tool name '{tool.name}'")
        seen.add(tool.name)
    return tools
