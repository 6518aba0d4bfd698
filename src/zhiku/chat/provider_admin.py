"""A workspace's model providers as one resource (``zk.providers``): what the CLI, the HTTP API
and the console list, add, change, test and remove, and the workspace's default chat model.

Keys are written once and never read back: a provider's public form holds ``has_key`` and a
masked key only.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from zhiku.chat.providers import ProviderRegistry, from_preset
from zhiku.core.errors import InvalidInput
from zhiku.models.llm.config import ProviderConfig
from zhiku.models.llm.presets import PRESETS, Preset
from zhiku.repositories import CallRepository

if TYPE_CHECKING:
    from zhiku.ingest.fetch import UrlPolicy

EXTRACTIVE = "extractive"
"""The choice of no model: answers are the best cited sentences."""

ChangeHook = Callable[[str, str, dict[str, Any]], None]
"""Told of every change: (action such as ``provider.add``, provider name, details without
secrets), e.g. to record it in an audit log."""

# What ``update`` never takes from a caller: the name (the row's identity) and the flags the
# registry keeps (``has_stored_key``, ``default_model``: see ``set_default``).
_FIXED = {"name", "has_stored_key", "default_model", "url_guard"}


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """One model a picker offers: ``id`` is what an assistant's ``model`` holds."""

    id: str
    provider: str | None
    model: str | None
    kind: str

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"id": self.id, "provider": self.provider, "model": self.model, "kind": self.kind}


def preset_dict(p: Preset) -> dict[str, Any]:
    """A preset's public form."""
    return {"name": p.name, "title": p.title, "kind": p.kind, "base_url": p.base_url,
            "models": list(p.models), "api_key_env": p.api_key_env, "needs_key": p.needs_key,
            "rerank_protocol": p.rerank_protocol}


class ModelProviders:
    """The providers of one workspace, over its registry and call log."""

    def __init__(self, registry: ProviderRegistry, calls: CallRepository,
                 on_change: ChangeHook | None = None) -> None:
        self._registry = registry
        self._calls = calls
        self._on_change = on_change

    def _changed(self, action: str, name: str, config: ProviderConfig | None = None,
                 **detail: Any) -> None:
        if self._on_change is None:
            return
        if config is not None:
            detail.update(kind=config.kind, base_url=_no_password(config.base_url),
                          models=list(config.models))
        self._on_change(action, name, detail)

    def list(self) -> list[ProviderConfig]:
        """Every provider, by name."""
        return self._registry.list()

    def get(self, name: str) -> ProviderConfig:
        """One provider (``NotFound`` if missing)."""
        return self._registry.get(name)

    def add(self, name: str, *, preset: str | None = None, api_key: str | None = None,
            replace: bool = False, preset_env: bool = True, url_policy: UrlPolicy | None = None,
            **config: Any) -> ProviderConfig:
        """Store a provider from a preset (base URL, models, kind) and/or explicit settings;
        ``api_key`` is stored encrypted. The preset's key variable (read from the server's
        environment) is kept only when no key is given and ``preset_env``: a pasted key is the
        one meant, and a face serving many workspaces must not lend them the server's keys.
        With ``url_policy`` the base URL may not be an internal address it does not allow."""
        key = _key(api_key)
        try:
            cfg = (from_preset(preset, name, **config) if preset
                   else ProviderConfig.model_validate({"name": name, **config}))
        except ValidationError as exc:
            raise _invalid(exc) from None
        if preset and (key is not None or not preset_env) and "api_key_env" not in config:
            cfg = cfg.model_copy(update={"api_key_env": None})
        if url_policy is not None:
            check_base_url(cfg.base_url, url_policy)
            cfg = cfg.model_copy(update={"url_guard": True})
        existed = replace and cfg.name in {p.name for p in self._registry.list()}
        added = self._registry.add(cfg, key, replace=replace)
        self._changed("provider.update" if existed else "provider.add", added.name, added,
                      preset=preset, key_set=key is not None)
        return added

    def update(self, name: str, /, *, api_key: str | None = None, clear_key: bool = False,
               url_policy: UrlPolicy | None = None, **changes: Any) -> ProviderConfig:
        """Change some settings; the stored key stays unless a new one is given or
        ``clear_key``. With ``url_policy`` a new base URL is checked as in ``add``."""
        fixed = _FIXED & set(changes)
        if fixed:
            raise InvalidInput(f"cannot change {', '.join(sorted(fixed))} here")
        old = self._registry.get(name)
        if url_policy is not None and changes.get("base_url") is not None:
            check_base_url(changes["base_url"], url_policy)
        merged = old.model_dump() | {k: v for k, v in changes.items() if v is not None}
        if url_policy is not None and changes.get("base_url") is not None:
            merged["url_guard"] = True  # the URL checked now is the one every call is held to
        try:
            config = ProviderConfig.model_validate(merged)
        except ValidationError as exc:
            raise _invalid(exc) from None
        key = _key(api_key)
        saved = self._registry.save(config, key, clear_key=clear_key)
        self._changed("provider.update", name, saved, key_set=key is not None,
                      key_cleared=clear_key)
        return saved

    def remove(self, name: str) -> None:
        """Delete a provider and its stored key (a default model on it goes with it)."""
        self._registry.delete(name)
        self._changed("provider.remove", name)

    def test(self, name: str, model: str | None = None) -> dict[str, Any]:
        """One minimal real call: latency, or the exact error with the key masked."""
        from zhiku.chat.provider_check import check_provider

        return check_provider(self._registry, self._calls, name, model)

    def public(self, config: ProviderConfig) -> dict[str, Any]:
        """What may be shown of a provider: its settings, ``has_key`` and the masked key."""
        data = config.model_dump(mode="json")
        data.update(has_key=config.has_stored_key, key_mask=self._registry.key_mask(config))
        return data

    def default_model(self) -> str | None:
        """The workspace's default chat model (``provider/model``), or None (extractive)."""
        return self._registry.default_model()

    def set_default(self, ref: str | None) -> str | None:
        """Set (``provider/model`` of a chat provider) or clear (None, ``"extractive"``) the
        default chat model; returns the one now set."""
        chosen = self._registry.set_default_model(None if ref in (None, "", EXTRACTIVE) else ref)
        self._changed("provider.default", (chosen or EXTRACTIVE).split("/", 1)[0],
                      default_model=chosen)
        return chosen

    def choices(self, kind: str | None = None) -> builtins.list[ModelChoice]:
        """Every model a picker may offer, ``extractive`` first (for chat); ``kind``:
        ``chat``, ``embedding`` or ``rerank`` (None: all)."""
        found = [ModelChoice(EXTRACTIVE, None, None, "chat")] if kind in (None, "chat") else []
        for config in self.list():
            group = "chat" if config.is_chat else config.kind
            if kind is None or group == kind:
                found += [ModelChoice(f"{config.name}/{m}", config.name, m, group)
                          for m in config.models]
        return found


def check_base_url(url: str, policy: UrlPolicy) -> None:
    """Refuse a base URL that is not http(s), carries credentials, or names an internal address
    ``policy`` does not allow (loopback, private, link-local, metadata). A host that does not
    resolve now is accepted: nothing can be reached through it until it does."""
    from zhiku.ingest.fetch import BlockedAddress

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"a provider's base URL is http(s)://host/…, got '{url}'")
    if parts.username or parts.password:
        raise InvalidInput("a provider's base URL carries no credentials (send api_key)")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        policy.resolve(parts.hostname, port)
    except BlockedAddress:
        raise InvalidInput(
            f"base URL host '{parts.hostname}' is an internal address; the server's operator "
            "can allow it with ZHIKU_API_URL_ALLOWLIST") from None
    except ValueError:
        raise InvalidInput("the base URL's port is not a valid port number") from None
    except InvalidInput:
        return  # not resolvable now


def presets() -> list[dict[str, Any]]:
    """Every known preset's public form."""
    return [preset_dict(p) for p in PRESETS.values()]


def _invalid(exc: ValidationError) -> InvalidInput:
    """A provider's settings that do not validate, said once per field."""
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                         for e in exc.errors())
    return InvalidInput(f"invalid provider settings: {problems}")


def _no_password(url: str) -> str:
    """A URL as it may be recorded: a password in it is replaced by ``***``."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def _key(api_key: str | None) -> str | None:
    """A pasted key without surrounding blanks; an empty one is no key."""
    key = (api_key or "").strip()
    return key or None
