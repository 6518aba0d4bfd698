"""``zhiku apps create|list|show|update|publish``: assistants."""

from __future__ import annotations

import json
from typing import Any

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.core.errors import InvalidInput

ON_UNGROUNDED_HELP = (
    "A model answer without a valid citation: warn (kept, marked ungrounded), extractive "
    "(replaced by the extractive answer) or refuse."
)
RERANKER_HELP = "provider/model of a reranker (default: the knowledge base's)."
app = typer.Typer(help="Assistants: stored, versioned configurations.", no_args_is_help=True)


def _retrieval(top_k: int | None, threshold: float | None, fusion: str | None,
               filter_: str | None, reranker: str | None = None) -> dict[str, object]:
    out: dict[str, object] = {}
    if reranker is not None:
        out["reranker"] = reranker
    if top_k is not None:
        out["top_k"] = top_k
    if threshold is not None:
        out["min_relevance"] = threshold
    if fusion is not None:
        out["fusion"] = fusion
    if filter_:
        try:
            out["filters"] = json.loads(filter_)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"--filter is not valid JSON: {exc}") from exc
    return out


@app.command("create")
@handle_errors
def create(
    name: str = typer.Argument(...),
    kb: list[str] = typer.Option(..., "--kb", help="Knowledge base (repeat)."),
    model: str = typer.Option(
        None, "--model", "-m", help="provider/model (default: the workspace's default chat "
        "model, see zhiku models default; 'extractive': no LLM)."
    ),
    fallback: list[str] = typer.Option(None, "--fallback", help="Fallback provider/model."),
    system_prompt: str = typer.Option(None, "--system-prompt"),
    top_k: int = typer.Option(None, "--top-k"),
    threshold: float = typer.Option(None, "--threshold", help="Minimum relevance (0-1)."),
    fusion: str = typer.Option(None, "--fusion", help="rrf or weighted"),
    filter_: str = typer.Option(None, "--filter", help="JSON search filters."),
    temperature: float = typer.Option(None, "--temperature"),
    refusal: str = typer.Option(None, "--refusal", help="What to say when the KB has nothing."),
    citation_style: str = typer.Option(None, "--citation-style", help="inline or hidden"),
    on_ungrounded: str = typer.Option(None, "--on-ungrounded", help=ON_UNGROUNDED_HELP),
    reranker: str = typer.Option(None, "--reranker", help=RERANKER_HELP),
    publish: bool = typer.Option(False, "--publish", help="Publish version 1 at once."),
) -> None:
    """Create an assistant."""
    config: dict[str, Any] = {
        "knowledge_bases": kb, "model": model, "fallback_models": fallback or [],
        "system_prompt": system_prompt, "temperature": temperature, "refusal_message": refusal,
        "citation_style": citation_style, "on_ungrounded": on_ungrounded,
        "retrieval": _retrieval(top_k, threshold, fusion, filter_, reranker),
    }
    with open_zhiku() as zk:
        created = zk.create_assistant(name, **{k: v for k, v in config.items() if v is not None})
        version = zk.publish_assistant(created.slug) if publish else None
    suffix = f", published v{version}" if version else " (draft)"
    say(f"created assistant {created.slug}{suffix}")


@app.command("update")
@handle_errors
def update(
    slug: str = typer.Argument(...),
    model: str = typer.Option(None, "--model", "-m"),
    system_prompt: str = typer.Option(None, "--system-prompt"),
    top_k: int = typer.Option(None, "--top-k"),
    threshold: float = typer.Option(None, "--threshold"),
    temperature: float = typer.Option(None, "--temperature"),
    refusal: str = typer.Option(None, "--refusal"),
    on_ungrounded: str = typer.Option(None, "--on-ungrounded", help=ON_UNGROUNDED_HELP),
    reranker: str = typer.Option(None, "--reranker", help=RERANKER_HELP),
) -> None:
    """Edit the draft (publish to make it live)."""
    changes: dict[str, object] = {"model": model, "system_prompt": system_prompt,
                                  "temperature": temperature, "refusal_message": refusal,
                                  "on_ungrounded": on_ungrounded}
    changes = {k: v for k, v in changes.items() if v is not None}
    retrieval = _retrieval(top_k, threshold, None, None, reranker)
    if retrieval:
        changes["retrieval"] = retrieval
    with open_zhiku() as zk:
        zk.update_assistant(slug, **changes)
    say(f"updated draft of {slug}")


@app.command("publish")
@handle_errors
def publish(slug: str = typer.Argument(...), note: str = typer.Option(None, "--note")) -> None:
    """Freeze the draft as a new version and make it live."""
    with open_zhiku() as zk:
        version = zk.publish_assistant(slug, note)
    say(f"published {slug} v{version}")


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """Assistants of the workspace."""
    with open_zhiku() as zk:
        items = zk.list_assistants()
    if as_json:
        print_json([a.to_dict() for a in items])
        return
    for a in items:
        live = f"v{a.published_version}" if a.published_version else "draft"
        model = a.live.model or "extractive"
        say(
            (a.slug, "bold"),
            f"  {a.name}  {live}  model {model}  kbs {', '.join(a.live.knowledge_bases)}",
        )


@app.command("show")
@handle_errors
def show(slug: str = typer.Argument(...)) -> None:
    """An assistant's draft and live configuration as JSON."""
    with open_zhiku() as zk:
        print_json(zk.get_assistant(slug).to_dict())
