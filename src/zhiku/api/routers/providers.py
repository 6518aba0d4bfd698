"""Model providers of the caller's workspace (``zk.providers``), the presets, the models a picker
offers, and the workspace's default chat model.

Reading takes any level without a name scope; changing, testing (a call to the provider with
the workspace's key) and setting the default take an admin. A key is sent once (``api_key``)
and never returned: answers carry ``has_key`` and ``key_mask``. Over HTTP a provider cannot
name a server environment variable (``api_key_env``, not even a preset's) nor a file (kind
``llama-cpp``): both would hand the caller the server's own keys or files; and its base URL may
not be an internal address unless ``api_url_allowlist`` allows it (a test call would otherwise
let any workspace admin probe the server's network and read the answers).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level, Principal
from zhiku.accounts.scope import check_unrestricted
from zhiku.api.deps import Caller, Service
from zhiku.api.mirror import Mirror
from zhiku.api.schemas import ERRORS, Deleted, Request
from zhiku.chat.provider_admin import ModelChoice, presets
from zhiku.ingest.fetch import UrlPolicy
from zhiku.service import Zhiku

router = APIRouter(tags=["providers"], responses=ERRORS)

Kind = Literal["openai", "embedding", "rerank"]


class ProviderSettings(Request):
    """Settings a provider may take over HTTP (all optional: a preset fills the rest)."""

    kind: Kind | None = Field(default=None, description="openai (chat), embedding or rerank")
    base_url: str | None = Field(default=None, min_length=1, max_length=2048)
    models: list[str] | None = Field(default=None, max_length=200)
    api_key: str | None = Field(default=None, max_length=4096, description="Stored encrypted; "
                                "never returned.")
    context_window: int | None = Field(default=None, ge=256)
    price_input: float | None = Field(default=None, ge=0)
    price_output: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, max_length=8)
    timeout: float | None = Field(default=None, gt=0, le=600)
    max_retries: int | None = Field(default=None, ge=0, le=10)
    rerank_protocol: Literal["tei", "documents"] | None = None


class ProviderIn(ProviderSettings):
    """A new provider: a ``preset`` (its base URL, models and kind) and/or explicit settings."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    preset: str | None = Field(default=None, max_length=64)
    replace: bool = False


class ProviderPatch(ProviderSettings):
    """Changes; ``api_key`` replaces the stored key, ``clear_key`` removes it."""

    clear_key: bool = False


class ProviderOut(BaseModel):
    """A provider as anyone may see it: never its key."""

    name: str
    kind: str
    base_url: str
    models: list[str]
    has_key: bool
    key_mask: str | None
    api_key_env: str | None
    context_window: int
    price_input: float
    price_output: float
    currency: str
    timeout: float
    max_retries: int
    rerank_protocol: str
    default_model: str | None


class TestIn(Request):
    """Which model to call (default: the provider's first)."""

    model: str | None = Field(default=None, min_length=1, max_length=200)


class TestOut(BaseModel):
    """The outcome of one minimal call: ``latency_ms``, and ``error`` (with ``kind``) when it
    failed; ``reply`` (chat), ``dim`` (embedding) or ``scores`` (rerank) when it worked."""

    ok: bool
    provider: str
    provider_kind: str
    model: str
    latency_ms: float
    error: str | None = None
    kind: str | None = None
    reply: str | None = None
    dim: int | None = None
    scores: list[float] | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


class PresetOut(BaseModel):
    """A known provider: where it serves the OpenAI protocol and models it offers."""

    name: str
    title: str
    kind: str
    base_url: str
    models: list[str]
    api_key_env: str | None
    needs_key: bool
    rerank_protocol: str | None


class ModelChoiceOut(Mirror, source=ModelChoice):
    """A model a picker offers; ``id`` goes into an assistant's ``model``."""


class DefaultModel(Request):
    """The workspace's default chat model (``provider/model``); null or "extractive": none."""

    model: str | None = Field(default=None, max_length=200)


def _reader(caller: Principal) -> None:
    check_unrestricted(caller, Level.READ)


def _admin(caller: Principal) -> None:
    check_unrestricted(caller, Level.ADMIN)


def _policy(zk: Zhiku) -> UrlPolicy:
    """Base URLs set over HTTP may not reach internal addresses the operator did not allow."""
    return UrlPolicy(zk.settings.api_url_allowlist)


def _settings(body: ProviderSettings) -> dict[str, Any]:
    """The settings sent (null: not sent, so a preset's or the stored value stays)."""
    sent = body.model_dump(exclude_unset=True, exclude={"api_key", "name", "preset", "replace",
                                                        "clear_key"})
    return {k: v for k, v in sent.items() if v is not None}


@router.get("/v1/providers", response_model=list[ProviderOut])
def list_providers(caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """The workspace's providers, by name (keys are never returned)."""
    _reader(caller)
    return [zk.providers.public(p) for p in zk.providers.list()]


@router.post("/v1/providers", response_model=ProviderOut, status_code=201)
def add_provider(body: ProviderIn, caller: Caller, zk: Service) -> dict[str, Any]:
    """Add a provider (``replace``: overwrite one of that name); the key is stored encrypted."""
    _admin(caller)
    made = zk.providers.add(body.name, preset=body.preset, api_key=body.api_key,
                            replace=body.replace, preset_env=False, url_policy=_policy(zk),
                            **_settings(body))
    return zk.providers.public(made)


@router.get("/v1/providers/{provider}", response_model=ProviderOut)
def get_provider(provider: str, caller: Caller, zk: Service) -> dict[str, Any]:
    """One provider."""
    _reader(caller)
    return zk.providers.public(zk.providers.get(provider))


@router.patch("/v1/providers/{provider}", response_model=ProviderOut)
def update_provider(provider: str, body: ProviderPatch, caller: Caller,
                    zk: Service) -> dict[str, Any]:
    """Change a provider's settings or key; what is not sent stays."""
    _admin(caller)
    changed = zk.providers.update(provider, api_key=body.api_key, clear_key=body.clear_key,
                                  url_policy=_policy(zk), **_settings(body))
    return zk.providers.public(changed)


@router.delete("/v1/providers/{provider}", response_model=Deleted)
def delete_provider(provider: str, caller: Caller, zk: Service) -> Deleted:
    """Remove a provider and its key (assistants naming it fail their next check)."""
    _admin(caller)
    zk.providers.remove(provider)
    return Deleted()


@router.post("/v1/providers/{provider}/test", response_model=TestOut)
def test_provider(provider: str, body: TestIn, caller: Caller, zk: Service) -> dict[str, Any]:
    """Make one minimal real call: its latency, or the provider's exact error (key masked).
    A failed call is still a 200 with ``ok`` false."""
    _admin(caller)
    return zk.providers.test(provider, body.model)


@router.get("/v1/provider-presets", response_model=list[PresetOut])
def list_presets(caller: Caller) -> list[dict[str, Any]]:
    """Known providers, with their base URLs and models."""
    _reader(caller)
    return presets()


@router.get("/v1/provider-models", response_model=list[ModelChoiceOut])
def list_model_choices(caller: Caller, zk: Service,
                       kind: Literal["chat", "embedding", "rerank"] | None = None,
                       ) -> list[dict[str, Any]]:
    """Every model of every provider (``kind``: only chat, embedding or rerank models), and
    ``extractive`` (no model) first among chat models."""
    _reader(caller)
    return [c.to_dict() for c in zk.providers.choices(kind)]


@router.get("/v1/workspace/default-model", response_model=DefaultModel)
def get_default_model(caller: Caller, zk: Service) -> DefaultModel:
    """The default chat model new assistants take when they name none (null: extractive)."""
    _reader(caller)
    return DefaultModel(model=zk.providers.default_model())


@router.put("/v1/workspace/default-model", response_model=DefaultModel)
def set_default_model(body: DefaultModel, caller: Caller, zk: Service) -> DefaultModel:
    """Set (a chat provider's ``provider/model``) or clear the default chat model."""
    _admin(caller)
    return DefaultModel(model=zk.providers.set_default(body.model))
