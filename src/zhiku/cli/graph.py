"""``zhiku graph``: build, inspect, resolve and export a knowledge base's knowledge graph."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.graph import extract_llm as llmx

app = typer.Typer(help="The knowledge graph of a knowledge base.", no_args_is_help=True)
KB = typer.Option(..., "--kb", help="Knowledge base.")
LLM_URL = typer.Option(None, "--llm-url", help="OpenAI-compatible base URL (LLM extraction).")
LLM_MODEL = typer.Option(None, "--llm-model", help="Model name for LLM extraction.")
API_KEY = typer.Option(None, "--api-key", envvar="ZHIKU_LLM_API_KEY", help="LLM API key.")
PRICE_IN = typer.Option(0.0, "--price-in", help="Price per million input tokens.")
PRICE_OUT = typer.Option(0.0, "--price-out", help="Price per million output tokens.")
BATCH = typer.Option(4, "--batch-size", min=1, max=32, help="Chunks per LLM call.")


def _llm(url: str | None, model: str | None, key: str | None) -> llmx.TextModel | None:
    if not url and not model:
        return None
    from zhiku.core.errors import InvalidInput
    from zhiku.models.llm.openai_compat import OpenAIChatModel

    if not url or not model:
        raise InvalidInput("LLM extraction needs both --llm-url and --llm-model")
    return llmx.from_chat_model(OpenAIChatModel(url, model, api_key=key))


@app.command("build")
@handle_errors
def build(
    kb: str = KB,
    llm_url: str = LLM_URL,
    llm_model: str = LLM_MODEL,
    api_key: str = API_KEY,
    price_in: float = PRICE_IN,
    price_out: float = PRICE_OUT,
    budget: float = typer.Option(None, "--budget", help="Stop before spending more than this."),
    max_tokens: int = typer.Option(None, "--max-tokens", help="Stop before this many tokens."),
    batch_size: int = BATCH,
    communities: bool = typer.Option(True, help="Recompute communities afterwards."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Extract the graph for documents already ingested (resumes where a run stopped)."""
    with open_zhiku() as zk:
        model = _llm(llm_url, llm_model, api_key)
        report = zk.graph.build(kb, llm=model, pricing=llmx.Pricing(price_in, price_out),
                                budget=budget, max_tokens=max_tokens, batch_size=batch_size)
        found = zk.graph.communities(kb) if communities and report.stopped is None else None
    if as_json:
        print_json({**asdict(report), "communities": found})
        return
    say(f"extracted {report.chunks} chunks ({report.cached} from cache, "
                  f"{report.calls} calls, {report.input_tokens + report.output_tokens} tokens, "
                  f"cost {report.cost:.4f}) in {report.seconds:.1f}s")
    if found is not None:
        say(f"{found} communities")
    if report.stopped:
        say((f"stopped: {report.stopped}", "yellow"), " — run again to resume")
        raise typer.Exit(3)


@app.command("estimate")
@handle_errors
def estimate(
    kb: str = KB,
    llm_model: str = typer.Option(..., "--llm-model", help="Model name (part of the cache key)."),
    llm_url: str = LLM_URL,
    price_in: float = PRICE_IN,
    price_out: float = PRICE_OUT,
    batch_size: int = BATCH,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Tokens and cost of an LLM build, before anything is spent."""
    name = f"openai/{llm_model}" if llm_url or "/" not in llm_model else llm_model
    with open_zhiku() as zk:
        est = zk.graph.estimate(kb, name, llmx.Pricing(price_in, price_out), batch_size)
    if as_json:
        print_json(asdict(est))
        return
    say(f"{est.chunks} chunks to extract ({est.cached} cached), {est.calls} calls, "
                  f"~{est.input_tokens} input + ~{est.output_tokens} output tokens, "
                  f"~{est.cost:.4f}")


@app.command("communities")
@handle_errors
def communities_(kb: str = KB, resolution: float = typer.Option(1.0)) -> None:
    """Recompute communities and their summaries."""
    with open_zhiku() as zk:
        found = zk.graph.communities(kb, resolution=resolution)
    say(f"{found} communities")


@app.command("stats")
@handle_errors
def stats(kb: str = KB, as_json: bool = typer.Option(False, "--json")) -> None:
    """Counts of entities, relations, mentions, merges and communities."""
    with open_zhiku() as zk:
        data = zk.graph.stats(kb)
    if as_json:
        print_json(data)
        return
    say(", ".join(f"{k} {v}" for k, v in data.items()))


@app.command("show")
@handle_errors
def show(entity: str, kb: str = KB, as_json: bool = typer.Option(False, "--json")) -> None:
    """An entity: aliases, strongest relations, and where it is mentioned."""
    with open_zhiku() as zk:
        data = zk.graph.show(kb, entity)
    if as_json:
        print_json(data)
        return
    aliases = f" (aliases: {', '.join(data['aliases'])})" if data["aliases"] else ""
    say((data["name"], "bold"), f" [{data['type']}] {data['mentions']} mentions{aliases}")
    for r in data["relations"]:
        arrow = "→" if r["direction"] == "out" else "←"
        say(f"  {arrow} {r['type']} {r['entity']}  (weight {r['weight']})")
    for m in data["provenance"][:10]:
        say(f"  @ {m['source']} chunk {m['chunk_id']} [{m['start']}:{m['end']}]")


@app.command("path")
@handle_errors
def path(source: str, target: str, kb: str = KB) -> None:
    """A shortest path between two entities."""
    with open_zhiku() as zk:
        names = zk.graph.path(kb, source, target)
    say(" → ".join(names))


@app.command("resolve")
@handle_errors
def resolve(
    kb: str = KB,
    threshold: float = typer.Option(0.92, help="String similarity needed to merge."),
    embed_threshold: float = typer.Option(0.9, help="Name-embedding cosine needed to merge."),
    dry_run: bool = typer.Option(False, "--dry-run"),
) -> None:
    """Merge aliases; each merge is printed with its reason (undo with `graph unmerge`)."""
    with open_zhiku() as zk:
        found = zk.graph.resolve(kb, string_threshold=threshold, embed_threshold=embed_threshold,
                                 apply=not dry_run)
    for m in found:
        say(f"#{m['merge_id']}: {m['reason']}")
    say(f"{len(found)} merges{' (dry run)' if dry_run else ''}")


@app.command("unmerge")
@handle_errors
def unmerge(merge_id: int, kb: str = KB) -> None:
    """Undo one merge."""
    with open_zhiku() as zk:
        zk.graph.unmerge(kb, merge_id)
    say(f"undid merge {merge_id}")


@app.command("export")
@handle_errors
def export(
    kb: str = KB,
    fmt: str = typer.Option("graphml", "--format", help="graphml, json or csv."),
    out: Path = typer.Option(None, "--out", help="Output file (default KB.FORMAT)."),
) -> None:
    """Export the graph as GraphML, JSON or CSV."""
    with open_zhiku() as zk:
        written = zk.graph.export(kb, fmt, out or Path(f"{kb}.{fmt}"))
    for p in written:
        say(f"wrote {p}")
