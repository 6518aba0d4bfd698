"""``zhiku models list|presets|add|update|test|rm|default``: a workspace's model providers (the same
rows as ``/v1/providers``)."""

from __future__ import annotations

from typing import Any

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.core.errors import InvalidInput
from zhiku.models.llm.config import ProviderConfig
from zhiku.models.llm.presets import PRESETS

app = typer.Typer(help="Model providers (OpenAI-compatible servers, a local GGUF model).",
                  no_args_is_help=True)
WORKSPACE_HELP = "Workspace (default: ZHIKU_WORKSPACE, else 'default')."


@app.command("list")
@handle_errors
def list_(
    as_json: bool = typer.Option(False, "--json"),
    workspace: str = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP),
) -> None:
    """Configured providers (keys are never shown, only their last characters)."""
    with open_zhiku(workspace=workspace) as zk:
        providers = [zk.providers.public(p) for p in zk.providers.list()]
        default = zk.providers.default_model()
    if as_json:
        print_json(providers)
        return
    if not providers:
        say("no providers; add one with: zhiku models add NAME --preset deepseek")
    for shown in providers:
        p = ProviderConfig.model_validate(
            {k: v for k, v in shown.items() if k not in ("has_key", "key_mask")})
        key = f"stored {shown['key_mask']}" if shown["has_key"] else "none"
        key = f"env {p.api_key_env}" if p.api_key_env else key
        where = p.model_path or p.base_url
        say((p.name, "bold"), f" ({p.kind}) {where}  key: {key}")
        say(f"   models: {', '.join(p.models) or '-'}; window {p.context_window}; "
                      f"price in/out {p.price_input}/{p.price_output} {p.currency} per M tokens")
    if providers:
        say(f"default chat model: {default or 'extractive (none)'}")


@app.command("presets")
def presets() -> None:
    """Known providers: base URL and model names."""
    for p in PRESETS.values():
        say((p.name, "bold"), f"  {p.title} ({p.kind})  {p.base_url}")
        say(f"   {', '.join(p.models)}")


@app.command("add")
@handle_errors
def add(
    name: str = typer.Argument(..., help="Provider name, used in provider/model references."),
    preset: str = typer.Option(None, "--preset", help=f"One of: {', '.join(PRESETS)}"),
    base_url: str = typer.Option(None, "--base-url"),
    model: list[str] = typer.Option(None, "--model", "-m", help="Model name (repeat)."),
    api_key_env: str = typer.Option(None, "--api-key-env", help="Variable holding the key."),
    store_key: bool = typer.Option(
        False, "--store-key", help="Prompt for the key and store it encrypted."
    ),
    local: bool = typer.Option(False, "--local", help="In-process GGUF model (zhiku[local])."),
    model_path: str = typer.Option(None, "--model-path", help="GGUF file (default: SmolLM2)."),
    context_window: int = typer.Option(None, "--context-window"),
    price_in: float = typer.Option(None, "--price-in", help="Per million input tokens."),
    price_out: float = typer.Option(None, "--price-out", help="Per million output tokens."),
    tokenize_path: str = typer.Option(
        None, "--tokenize-path", help="Tokenizer endpoint to calibrate token counts."
    ),
    rerank: str = typer.Option(
        None, "--rerank", help="A reranker speaking POST /rerank: 'tei' or 'documents' "
        "(Jina, SiliconFlow, vLLM, Cohere-style)."
    ),
    embedding: bool = typer.Option(
        False, "--embedding", help="An OpenAI-compatible POST /embeddings server."
    ),
    timeout: float = typer.Option(None, "--timeout", help="Seconds per call."),
    replace: bool = typer.Option(False, "--replace"),
    workspace: str = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP),
) -> None:
    """Add a provider from a preset or by base URL; the key comes from --api-key-env or is
    stored encrypted (--store-key prompts for it without echo)."""
    if not (preset or base_url or local):
        raise InvalidInput("give --preset, --base-url or --local")
    api_key = typer.prompt("API key", hide_input=True) if store_key else None
    config: dict[str, Any] = {
        "base_url": base_url, "models": model or None, "api_key_env": api_key_env,
        "context_window": context_window, "price_input": price_in, "price_output": price_out,
        "tokenize_path": tokenize_path, "timeout": timeout,
    }
    if rerank:
        config.update(kind="rerank", rerank_protocol=rerank, timeout=timeout or 10.0)
    if embedding:
        config.update(kind="embedding")
    if local:
        config.update(kind="llama-cpp", model_path=model_path, models=model or ["smollm2"],
                      context_window=context_window or 2048)
    config = {k: v for k, v in config.items() if v is not None}
    with open_zhiku(workspace=workspace) as zk:
        added = zk.providers.add(name, preset=preset, api_key=api_key, replace=replace,
                                 **config)
    say(f"added provider {added.name}: {', '.join(added.models)}")


@app.command("update")
@handle_errors
def update(
    name: str = typer.Argument(...),
    base_url: str = typer.Option(None, "--base-url"),
    model: list[str] = typer.Option(None, "--model", "-m", help="Model name (repeat): the new "
                                    "list."),
    context_window: int = typer.Option(None, "--context-window"),
    price_in: float = typer.Option(None, "--price-in", help="Per million input tokens."),
    price_out: float = typer.Option(None, "--price-out", help="Per million output tokens."),
    timeout: float = typer.Option(None, "--timeout", help="Seconds per call."),
    store_key: bool = typer.Option(
        False, "--store-key", help="Prompt for a new key and store it encrypted."
    ),
    clear_key: bool = typer.Option(False, "--clear-key", help="Remove the stored key."),
    workspace: str = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP),
) -> None:
    """Change some of a provider's settings; the stored key stays unless --store-key or
    --clear-key."""
    api_key = typer.prompt("API key", hide_input=True) if store_key else None
    changes: dict[str, Any] = {
        "base_url": base_url, "models": model or None, "context_window": context_window,
        "price_input": price_in, "price_output": price_out, "timeout": timeout,
    }
    with open_zhiku(workspace=workspace) as zk:
        changed = zk.providers.update(name, api_key=api_key, clear_key=clear_key,
                                      **{k: v for k, v in changes.items() if v is not None})
    say(f"updated provider {changed.name}: {', '.join(changed.models)}")


@app.command("test")
@handle_errors
def test(
    name: str = typer.Argument(...),
    model: str = typer.Option(None, "--model", "-m"),
    as_json: bool = typer.Option(False, "--json"),
    workspace: str = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP),
) -> None:
    """Make one tiny real call; report latency or the exact failure (exit 1 on failure)."""
    with open_zhiku(workspace=workspace) as zk:
        result = zk.providers.test(name, model)
    if as_json:
        print_json(result)
    elif result["ok"]:
        got = (f"reply: {result['reply']!r}" if "reply" in result
               else f"dimension {result['dim']}" if "dim" in result
               else f"scores {result.get('scores')}")
        say(f"ok  {name}/{result['model']}  {result['latency_ms']} ms  {got}")
    else:
        say(f"FAILED  {name}/{result['model']}  {result['kind']}: {result['error']}")
    if not result["ok"]:
        raise typer.Exit(1)


@app.command("rm")
@handle_errors
def rm(
    name: str = typer.Argument(...),
    workspace: str = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP),
) -> None:
    """Remove a provider and its stored key."""
    with open_zhiku(workspace=workspace) as zk:
        zk.providers.remove(name)
    say(f"removed provider {name}")


app.command("remove", help="Remove a provider and its stored key (same as rm).")(rm)


@app.command("default")
@handle_errors
def default(
    model: str = typer.Argument(
        None, help="provider/model (a bare provider: its first model); 'extractive': none. "
        "Without it, show the current default."),
    workspace: str = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP),
) -> None:
    """Show or set the default chat model that new assistants take when they name none."""
    with open_zhiku(workspace=workspace) as zk:
        chosen = zk.providers.set_default(model) if model else zk.providers.default_model()
    say(f"default chat model: {chosen or 'extractive (none)'}")
