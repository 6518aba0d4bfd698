"""``zhiku models list|presets|add|test|rm``: model providers."""

from __future__ import annotations

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.core.errors import InvalidInput
from zhiku.models.llm.presets import PRESETS

app = typer.Typer(help="Model providers (OpenAI-compatible servers, a local GGUF model).",
                  no_args_is_help=True)


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """Configured providers (keys are never shown)."""
    with open_zhiku() as zk:
        providers = zk.list_providers()
    if as_json:
        print_json([p.model_dump(mode="json") for p in providers])
        return
    if not providers:
        say("no providers; add one with: zhiku models add NAME --preset deepseek")
    for p in providers:
        key = "stored" if p.has_stored_key else "none"
        key = f"env {p.api_key_env}" if p.api_key_env else key
        where = p.model_path or p.base_url
        say((p.name, "bold"), f" ({p.kind}) {where}  key: {key}")
        say(f"   models: {', '.join(p.models) or '-'}; window {p.context_window}; "
                      f"price in/out {p.price_input}/{p.price_output} {p.currency} per M tokens")


@app.command("presets")
def presets() -> None:
    """Known providers: base URL and model names."""
    for p in PRESETS.values():
        say((p.name, "bold"), f"  {p.title}  {p.base_url}")
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
    timeout: float = typer.Option(None, "--timeout", help="Seconds per call."),
    replace: bool = typer.Option(False, "--replace"),
) -> None:
    """Add a provider from a preset or by base URL; the key comes from --api-key-env or is
    stored encrypted (--store-key prompts for it without echo)."""
    if not (preset or base_url or local):
        raise InvalidInput("give --preset, --base-url or --local")
    api_key = typer.prompt("API key", hide_input=True) if store_key else None
    config: dict[str, object] = {
        "base_url": base_url, "models": model or None, "api_key_env": api_key_env,
        "context_window": context_window, "price_input": price_in, "price_output": price_out,
        "tokenize_path": tokenize_path, "timeout": timeout,
    }
    if rerank:
        config.update(kind="rerank", rerank_protocol=rerank, timeout=timeout or 10.0)
    if local:
        config.update(kind="llama-cpp", model_path=model_path, models=model or ["smollm2"],
                      context_window=context_window or 2048)
    config = {k: v for k, v in config.items() if v is not None}
    with open_zhiku() as zk:
        added = zk.add_provider(name, preset=preset, api_key=api_key, replace=replace, **config)
    say(f"added provider {added.name}: {', '.join(added.models)}")


@app.command("test")
@handle_errors
def test(
    name: str = typer.Argument(...),
    model: str = typer.Option(None, "--model", "-m"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Make one tiny real call; report latency or the exact failure (exit 1 on failure)."""
    with open_zhiku() as zk:
        result = zk.test_provider(name, model)
    if as_json:
        print_json(result)
    elif result["ok"]:
        say(f"ok  {name}/{result['model']}  {result['latency_ms']} ms  "
                      f"reply: {result['reply']!r}")
    else:
        say(f"FAILED  {name}/{result['model']}  {result['kind']}: {result['error']}")
    if not result["ok"]:
        raise typer.Exit(1)


@app.command("rm")
@handle_errors
def rm(name: str = typer.Argument(...)) -> None:
    """Remove a provider and its stored key."""
    with open_zhiku() as zk:
        zk.remove_provider(name)
    say(f"removed provider {name}")
