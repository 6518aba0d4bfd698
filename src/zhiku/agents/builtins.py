"""Tools only an agent run has: knowledge search (its hits numbered for citation across the
run) and HTTP GET of allow-listed hosts through the SSRF guard."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from zhiku.core.errors import InvalidInput
from zhiku.ingest.fetch import UrlPolicy, fetch
from zhiku.retrieval.types import Hit

SearchFn = Callable[[str, int], list[Hit]]


class KnowledgeSearch:
    """Searches the agent's knowledge bases; every distinct passage gets the next number, which
    the final answer cites (``hits`` holds them in number order)."""

    name = "knowledge_search"
    description = ("Search the knowledge bases for passages relevant to a query. Each passage "
                   "has a number n; cite it in the answer as [n].")

    def __init__(self, search: SearchFn, top_k: int) -> None:
        self._search = search
        self._top_k = top_k
        self._lock = threading.Lock()
        self._numbers: dict[int, int] = {}
        self.hits: list[Hit] = []
        self.parameters: dict[str, Any] = {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "what to look for"},
                "top_k": {"type": "integer", "minimum": 1, "maximum": 20},
            },
            "required": ["query"],
        }

    def call(self, args: Mapping[str, Any]) -> Any:
        """``{"passages": [{"n", "title", "source", "text"}…]}``."""
        query = str(args.get("query") or "").strip()
        if not query:
            raise InvalidInput("knowledge_search needs a non-empty query")
        top_k = args.get("top_k", self._top_k)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= 20:
            top_k = self._top_k
        hits = self._search(query, top_k)
        passages = []
        with self._lock:
            for hit in hits:
                n = self._numbers.get(hit.chunk_id)
                if n is None:
                    self.hits.append(hit)
                    n = self._numbers[hit.chunk_id] = len(self.hits)
                passages.append({"n": n, "title": hit.title, "source": hit.source,
                                 "page": hit.page, "text": hit.text})
        return {"passages": passages}


def _host_key(host: str, port: int | None) -> tuple[str, int | None]:
    return host.lower().strip("[]"), port


class HttpGet:
    """GET a URL on one of ``hosts`` (``host`` or ``host:port``), through the SSRF guard, with a
    time-out and a size cap; redirects are not followed (they could leave the allow-list)."""

    name = "http_get"

    def __init__(self, hosts: Sequence[str], policy: UrlPolicy, *, timeout: float,
                 max_bytes: int = 1_000_000) -> None:
        self._allowed: set[tuple[str, int | None]] = set()
        for entry in hosts:
            parts = urlsplit(f"//{entry.strip()}")
            if parts.hostname:
                self._allowed.add(_host_key(parts.hostname, parts.port))
        self._policy = policy
        self._timeout = timeout
        self._max_bytes = max_bytes
        self.description = ("HTTP GET a URL and return its text. Allowed hosts: "
                            + ", ".join(sorted(hosts)))
        self.parameters: dict[str, Any] = {
            "type": "object",
            "properties": {"url": {"type": "string", "description": "an http(s) URL"}},
            "required": ["url"],
        }

    def call(self, args: Mapping[str, Any]) -> Any:
        """``{"url", "content_type", "text"}``."""
        url = str(args.get("url") or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput("http_get needs an http or https URL")
        host = _host_key(parts.hostname, parts.port)
        if host not in self._allowed and (host[0], None) not in self._allowed:
            raise InvalidInput(f"http_get may not fetch from '{parts.netloc}': not an allowed host")
        got = fetch(url, self._policy, max_bytes=self._max_bytes, max_redirects=0,
                    timeout=self._timeout, deadline=self._timeout)
        return {"url": got.url, "content_type": got.content_type,
                "text": got.data.decode("utf-8", errors="replace")}
