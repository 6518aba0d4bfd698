"""``zhiku usage``: tokens, cost and latency of answers, grouped and over time."""

from __future__ import annotations

from typing import cast, get_args

import typer
from rich.table import Table

from zhiku.chat.accounting import Bucket, UsageBy
from zhiku.cli.context import console, handle_errors, open_zhiku, print_json
from zhiku.cli.output import safe


@handle_errors
def usage(
    by: str = typer.Option("assistant", "--by", help="assistant, key or day."),
    bucket: str = typer.Option(None, "--bucket", help="day or hour: one row per time bucket."),
    since: str = typer.Option(None, "--since", help="ISO date or time (inclusive)."),
    until: str = typer.Option(None, "--until", help="ISO date or time (exclusive)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Requests, model calls, tokens, cost and latency per assistant, API key or day."""
    with open_zhiku() as zk:
        rows = zk.usage(_by(by), bucket=_bucket(bucket), since=since, until=until)
    if as_json:
        print_json(rows)
        return
    table = Table(*(["bucket"] if bucket else []), by, "requests", "calls", "input tokens",
                  "output tokens", "cost", "mean ms")
    for r in rows:
        cells = [safe(r["label"] if by == "key" and r["label"] else r["group"] or "-"),
                 str(r["requests"]), str(r["calls"]), str(r["input_tokens"]),
                 str(r["output_tokens"]), f"{r['cost']:.6f}", f"{r['avg_latency_ms']:.0f}"]
        table.add_row(*([r["bucket"]] if bucket else []), *cells)
    console.print(table)


def _by(value: str) -> UsageBy:
    for choice in get_args(UsageBy):
        if value == choice:
            return cast(UsageBy, choice)
    raise typer.BadParameter("--by is assistant, key or day")


def _bucket(value: str | None) -> Bucket | None:
    if value is None:
        return None
    for choice in get_args(Bucket):
        if value == choice:
            return cast(Bucket, choice)
    raise typer.BadParameter("--bucket is day or hour")
