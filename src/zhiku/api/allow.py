"""The ``Allow`` header of a 405: every method the path answers, not only those of the one route
the router happened to try first (each method of a path is its own route)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import BaseRoute, Route


def _flatten(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        included: Any = getattr(route, "original_router", None)  # a router included as a whole
        if included is not None:
            yield from _flatten(included.routes)
        else:
            yield route


def allowed_methods(routes: Iterable[BaseRoute], path: str) -> list[str]:
    """The methods of every route whose path matches ``path``, sorted."""
    methods: set[str] = set()
    for route in _flatten(routes):
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)
