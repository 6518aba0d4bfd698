"""Stored providers, their keys, and the ``ChatModel`` for a ``provider/model`` reference."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.models.llm.config import ProviderConfig
from zhiku.models.llm.errors import AuthenticationFailed
from zhiku.models.llm.openai_compat import OpenAIChatModel
from zhiku.models.llm.presets import PRESETS
from zhiku.models.llm.retry import RetryPolicy
from zhiku.models.llm.secrets import SecretBox, key_from_env, mask
from zhiku.models.llm.types import ChatModel
from zhiku.models.rerank import RerankClient
from zhiku.store.db import Database

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from zhiku.ingest.fetch import UrlPolicy
    from zhiku.models.embedders.openai_compat import OpenAIEmbedder


def _check(config: ProviderConfig) -> None:
    """What a stored provider must hold whatever face made it."""
    if config.kind != "llama-cpp" and not config.base_url:
        raise InvalidInput(f"a provider of kind {config.kind} needs a base URL")


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``"deepseek/deepseek-chat"`` → ``("deepseek", "deepseek-chat")``; a bare name → no model."""
    provider, _, model = ref.partition("/")
    if not provider:
        raise InvalidInput(f"a model reference is provider/model, got '{ref}'")
    return provider, model or None


def from_preset(preset: str, name: str | None = None, **overrides: object) -> ProviderConfig:
    """A provider config filled from a preset (base URL, models, key variable)."""
    p = PRESETS.get(preset)
    if p is None:
        raise InvalidInput(f"unknown preset '{preset}'", known=sorted(PRESETS))
    data: dict[str, object] = {
        "name": name or p.name, "base_url": p.base_url, "models": list(p.models),
        "api_key_env": p.api_key_env,
    }
    if p.rerank_protocol is not None:
        data.update(kind="rerank", rerank_protocol=p.rerank_protocol, timeout=10.0)
    elif p.embedding:
        data.update(kind="embedding")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return ProviderConfig.model_validate(data)


class ProviderRegistry:
    """The providers of one workspace, and the models built from them (cached, thread-safe)."""

    def __init__(self, db: Database, workspace_id: int, secrets: SecretBox,
                 url_policy: UrlPolicy | None = None) -> None:
        self._db = db
        self._ws = workspace_id
        self._secrets = secrets
        self._url_policy = url_policy  # None: allow-list empty
        self._models: dict[str, ChatModel] = {}
        self._embedders: dict[str, OpenAIEmbedder] = {}
        self._lock = threading.Lock()

    # -- storage --------------------------------------------------------------------------
    def add(
        self, config: ProviderConfig, api_key: str | None = None, *, replace: bool = False
    ) -> ProviderConfig:
        """Store a provider; ``api_key`` is encrypted (prefer ``api_key_env`` where possible)."""
        config = config.model_copy(update={"has_stored_key": api_key is not None})
        _check(config)
        if replace:  # the workspace's default stays with the provider while it lists the model
            try:
                kept = self.get(config.name).default_model
            except NotFound:
                kept = None
            if kept is not None and (kept in config.models or not config.models):
                config = config.model_copy(update={"default_model": kept})
        token = self._secrets.encrypt(api_key) if api_key is not None else None
        sql = (
            "INSERT INTO providers (workspace_id, name, config, api_key_encrypted) "
            "VALUES (?, ?, ?, ?)"
        )
        if replace:
            sql += (
                " ON CONFLICT (workspace_id, name) DO UPDATE SET config = excluded.config,"
                " api_key_encrypted = excluded.api_key_encrypted,"
                f" updated_at = {self._db.now}"
            )
        try:
            with self._db.write() as conn:
                conn.execute(sql, (self._ws, config.name, config.model_dump_json(), token))
        except self._db.IntegrityError as exc:
            raise Conflict(f"provider '{config.name}' already exists") from exc
        self._forget(config.name)
        return config

    def save(self, config: ProviderConfig, api_key: str | None = None, *,
             clear_key: bool = False) -> ProviderConfig:
        """Replace an existing provider's settings; its stored key stays unless a new one is
        given (``api_key``) or ``clear_key``."""
        old = self.get(config.name)
        has_key = api_key is not None or (old.has_stored_key and not clear_key)
        config = config.model_copy(update={"has_stored_key": has_key})
        _check(config)
        if config.default_model is not None and config.default_model not in config.models:
            config = config.model_copy(update={"default_model": None})
        sql = f"UPDATE providers SET config = ?, updated_at = {self._db.now}"
        args: list[object] = [config.model_dump_json()]
        if api_key is not None or clear_key:
            sql += ", api_key_encrypted = ?"
            args.append(self._secrets.encrypt(api_key) if api_key is not None else None)
        with self._db.write() as conn:
            conn.execute(sql + " WHERE workspace_id = ? AND name = ?",
                         (*args, self._ws, config.name))
        self._forget(config.name)
        return config

    def default_model(self) -> str | None:
        """The workspace's default chat model (``provider/model``), if one is set."""
        for config in self.list():
            if config.default_model is not None:
                return f"{config.name}/{config.default_model}"
        return None

    def set_default_model(self, ref: str | None) -> str | None:
        """Make ``ref`` (a chat provider's ``provider/model``; a bare provider name means its
        first model) the workspace's default chat model; None clears it."""
        target: ProviderConfig | None = None
        chosen: str | None = None
        if ref is not None:
            target, chosen = self._resolve(ref)
            if not target.is_chat:
                raise InvalidInput(f"provider '{target.name}' is of kind {target.kind}, "
                                   "not a chat model")
            if chosen not in target.models:
                target = target.model_copy(update={"models": [*target.models, chosen]})
        with self._db.write() as conn:
            rows = conn.execute(
                "SELECT name, config FROM providers WHERE workspace_id = ?", (self._ws,)
            ).fetchall()
            for row in rows:
                config = ProviderConfig.model_validate(json.loads(row["config"]))
                if target is not None and config.name == target.name:
                    config = target.model_copy(update={"default_model": chosen})
                elif config.default_model is None:
                    continue
                else:
                    config = config.model_copy(update={"default_model": None})
                conn.execute(
                    "UPDATE providers SET config = ? WHERE workspace_id = ? AND name = ?",
                    (config.model_dump_json(), self._ws, config.name),
                )
        return None if target is None else f"{target.name}/{chosen}"

    def key_mask(self, config: ProviderConfig) -> str | None:
        """The stored key in the only form that may be shown (its last characters), or None."""
        if not config.has_stored_key:
            return None
        row = self._db.conn.execute(
            "SELECT api_key_encrypted FROM providers WHERE workspace_id = ? AND name = ?",
            (self._ws, config.name),
        ).fetchone()
        if row is None or row[0] is None:
            return None
        try:
            return mask(self._secrets.decrypt(bytes(row[0])))
        except InvalidInput:
            return "(cannot be decrypted)"

    def get(self, name: str) -> ProviderConfig:
        """The provider called ``name``."""
        row = self._db.conn.execute(
            "SELECT config FROM providers WHERE workspace_id = ? AND name = ?", (self._ws, name)
        ).fetchone()
        if row is None:
            raise NotFound(f"provider '{name}' does not exist (zhiku models add)")
        return ProviderConfig.model_validate(json.loads(row["config"]))

    def list(self) -> list[ProviderConfig]:
        """Every provider, by name."""
        rows = self._db.conn.execute(
            "SELECT config FROM providers WHERE workspace_id = ? ORDER BY name", (self._ws,)
        ).fetchall()
        return [ProviderConfig.model_validate(json.loads(r["config"])) for r in rows]

    def delete(self, name: str) -> None:
        """Remove a provider and its stored key."""
        with self._db.write() as conn:
            cur = conn.execute(
                "DELETE FROM providers WHERE workspace_id = ? AND name = ?", (self._ws, name)
            )
        if not cur.rowcount:
            raise NotFound(f"provider '{name}' does not exist")
        self._forget(name)

    def api_key(self, config: ProviderConfig) -> str | None:
        """The key: the named environment variable first, then the stored one."""
        if config.api_key_env:
            key = key_from_env(config.api_key_env)
            if key:
                return key
        if config.has_stored_key:
            row = self._db.conn.execute(
                "SELECT api_key_encrypted FROM providers WHERE workspace_id = ? AND name = ?",
                (self._ws, config.name),
            ).fetchone()
            if row is not None and row[0] is not None:
                return self._secrets.decrypt(bytes(row[0]))
        return None

    # -- models ---------------------------------------------------------------------------
    def model(self, ref: str) -> ChatModel:
        """The model ``provider/model`` (the provider's first model when none is named)."""
        config, chosen = self._resolve(ref)
        if not config.is_chat:
            what = "a reranker" if config.kind == "rerank" else "an embedder"
            raise InvalidInput(f"provider '{config.name}' is {what}, not a chat model")
        key = f"{config.name}/{chosen}"
        with self._lock:
            if key not in self._models:
                self._models[key] = self._build(config, chosen)
            return self._models[key]

    def reranker(self, ref: str) -> RerankClient:
        """The reranker ``provider/model`` (a provider of kind ``rerank``)."""
        config, chosen = self._resolve(ref)
        if config.kind != "rerank":
            raise InvalidInput(f"provider '{config.name}' is not a reranker (kind rerank)")
        return RerankClient(config.base_url, chosen, protocol=config.rerank_protocol,
                            api_key=self.api_key(config), timeout=config.timeout,
                            name=f"{config.name}/{chosen}", transport=self.transport(config))

    def embedder(self, ref: str) -> OpenAIEmbedder:
        """The embedder ``provider/model`` (kind ``embedding``), made once and kept until the
        provider changes (what a knowledge base whose embedder is ``provider:REF`` uses)."""
        config, chosen = self._resolve(ref)
        key = f"{config.name}/{chosen}"
        with self._lock:
            made = self._embedders.get(key)
        if made is None:
            made = self.new_embedder(ref)  # outside the lock: it calls the server
            with self._lock:
                made = self._embedders.setdefault(key, made)
        return made

    def new_embedder(self, ref: str) -> OpenAIEmbedder:
        """A new embedder on the provider ``provider/model`` (kind ``embedding``); making it
        calls the server once to learn the dimension. The caller closes it."""
        from zhiku.models.embedders.openai_compat import OpenAIEmbedder

        config, chosen = self._resolve(ref)
        if config.kind != "embedding":
            raise InvalidInput(f"provider '{config.name}' is not an embedder (kind embedding)")
        transport = self.transport(config)
        return OpenAIEmbedder(config.base_url, chosen, self.api_key(config),
                              timeout=config.timeout, transport=transport() if transport else None)

    def transport(self, config: ProviderConfig) -> Callable[[], httpx.HTTPTransport] | None:
        """For a provider configured over HTTP (``url_guard``): makes transports that connect
        only to addresses the URL policy allows, the one it checked (no DNS answer that
        changes after the check is followed). None: the default transport."""
        if not config.url_guard:
            return None
        from zhiku.ingest.fetch import UrlPolicy
        from zhiku.ingest.pinned import pinned_transport

        policy = self._url_policy or UrlPolicy()
        return lambda: pinned_transport(policy)

    def _resolve(self, ref: str) -> tuple[ProviderConfig, str]:
        provider, model = parse_ref(ref)
        config = self.get(provider)
        chosen = model or (config.models[0] if config.models else None)
        if chosen is None:
            raise InvalidInput(f"provider '{provider}' lists no model; use {provider}/MODEL")
        return config, chosen

    def config_for(self, ref: str) -> ProviderConfig:
        """The provider config behind a model reference."""
        return self.get(parse_ref(ref)[0])

    def _build(self, config: ProviderConfig, model: str) -> ChatModel:
        if config.kind == "llama-cpp":
            from zhiku.models.llm.local import LlamaCppChatModel

            return LlamaCppChatModel(config.model_path, context_window=config.context_window)
        api_key = self.api_key(config)
        transport = self.transport(config)
        if config.api_key_env and not api_key and not config.has_stored_key:
            raise AuthenticationFailed(
                f"provider '{config.name}': environment variable {config.api_key_env} is not set"
            )
        return OpenAIChatModel(
            config.base_url,
            model,
            api_key=api_key,
            provider=config.name,
            context_window=config.context_window,
            timeout=config.timeout,
            retry=RetryPolicy(max_retries=config.max_retries),
            token_safety=config.token_safety,
            tokenize_path=config.tokenize_path,
            transport=transport() if transport else None,
        )

    def close(self) -> None:
        """Close the models and embedders made so far (their HTTP connections)."""
        for name in {key.split("/", 1)[0] for key in [*self._models, *self._embedders]}:
            self._forget(name)

    def _forget(self, provider: str) -> None:
        with self._lock:
            for key in [k for k in self._models if k.startswith(provider + "/")]:
                model = self._models.pop(key)
                close = getattr(model, "close", None)
                if close is not None:
                    close()
            for key in [k for k in self._embedders if k.startswith(provider + "/")]:
                self._embedders.pop(key).close()
