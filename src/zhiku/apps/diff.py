"""What changed between two configurations of an assistant (versions, the draft, the live one),
setting by setting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from zhiku.apps.types import Assistant, AssistantConfig
from zhiku.core.errors import InvalidInput


class Versions(Protocol):
    """Where published versions are read (the assistant store)."""

    def version(self, slug: str, version: int) -> AssistantConfig: ...


@dataclass(frozen=True, slots=True)
class Change:
    """One setting (a dotted path, e.g. ``retrieval.min_relevance``) and its two values."""

    path: str
    before: Any
    after: Any


def config_at(assistant: Assistant, ref: str, versions: Versions) -> AssistantConfig:
    """The configuration ``ref`` names: ``draft``, ``live`` (what chats use: the published
    version, or the draft before any) or a version number (``3`` or ``v3``)."""
    if ref == "draft":
        return assistant.draft
    if ref == "live":
        return assistant.live
    number = ref.removeprefix("v")
    if not number.isdigit() or int(number) < 1:
        raise InvalidInput("name a version number, 'draft' or 'live'")
    return versions.version(assistant.slug, int(number))


def config_diff(before: AssistantConfig, after: AssistantConfig) -> list[Change]:
    """Every setting whose value differs, in the order the configuration lists them; lists
    (knowledge bases, fallback models) are compared whole."""
    old, new = _flat(before.model_dump(mode="json")), _flat(after.model_dump(mode="json"))
    paths = list(old) + [p for p in new if p not in old]
    return [Change(p, old.get(p), new.get(p)) for p in paths if old.get(p) != new.get(p)]


def _flat(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            out.update(_flat(item, path + "."))
        else:
            out[path] = item
    return out
