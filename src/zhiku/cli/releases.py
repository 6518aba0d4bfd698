"""Provable releases on the command line: ``zhiku apps bind-evals|unbind-evals|scorecard|
versions|rollback`` and ``zhiku eval gate`` (thin over ``Zhiku.releases``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from zhiku.audit.context import os_user
from zhiku.cli.context import handle_errors, open_zhiku, print_json, say

if TYPE_CHECKING:  # the release and evaluation modules load numpy: only when a command runs
    from zhiku.releases.service import Scorecard, Side


def _json(card: Scorecard) -> None:
    from zhiku.evals.view import clean

    print_json(clean(card.to_dict()))


def actor() -> str:
    """Who runs the command, as a publish forced from here records it."""
    user = os_user()
    return f"cli:{user}" if user else "cli"


def _cost(side: Side) -> str:
    summary = side.run.summary
    p50 = (summary.get("latency_ms") or {}).get("p50")
    cost = summary.get("cost")
    return (f"latency p50 {'-' if p50 is None else f'{p50:.1f} ms'}, "
            f"cost {'-' if cost is None else f'{cost:.6f}'}")


def print_scorecard(card: Scorecard) -> None:
    """The comparison, primary metrics marked (``!`` where worse beyond the interval)."""
    def side(s: Side) -> str:
        return f"{s.label} (run {s.run.id}{', stored' if s.reused else ''})"

    head = side(card.candidate)
    if card.baseline is not None:
        head += f" against {side(card.baseline)}"
    say((card.app, "bold"), f" on '{card.set_name}': {head}")
    if card.baseline is None:
        for name, value in card.candidate.run.summary.get("metrics", {}).items():
            say(f"   {name:<20} {value:.4f}")
        say(f"   {card.candidate.label}: {_cost(card.candidate)}")
        say("nothing to compare with yet: this run is the baseline")
        return
    worse = {d.metric for d in card.regressions}
    for d in card.deltas:
        mark = "!" if d.metric in worse else "*" if d.metric in card.primary else " "
        say(f" {mark} {d.metric:<20} {d.a:.4f} → {d.b:.4f}  Δ {d.delta:+.4f} "
            f"[{d.low:+.4f}, {d.high:+.4f}]  n={d.n}")
    say(f"   {card.baseline.label}: {_cost(card.baseline)}")
    say(f"   {card.candidate.label}: {_cost(card.candidate)}")
    if card.passed:
        say(("pass:", "green"), " no primary metric is worse beyond its interval")
    else:
        say(("worse:", "red"), " ", card.message())


def bind_evals(
    slug: str = typer.Argument(...),
    eval_set: str = typer.Argument(..., help="The eval set every release is checked on."),
    top_k: int = typer.Option(10, "--top-k", "-k", min=1, max=100),
    metric: list[str] = typer.Option(
        None, "--metric",
        help="A primary metric (repeat; default: the deepest nDCG, refusal, f1, "
             "citation_recall)."),
) -> None:
    """Bind an app (an assistant, a chat-shaped workflow or an agent) to an eval set:
    publishing then refuses a draft worse than live."""
    with open_zhiku() as zk:
        zk.releases.bind(slug, eval_set, top_k=top_k, metrics=metric or ())
    say(f"{slug}: releases are checked on '{eval_set}'")


def unbind_evals(slug: str = typer.Argument(...)) -> None:
    """Publish an app without checks again."""
    with open_zhiku() as zk:
        zk.releases.unbind(slug)
    say(f"{slug}: releases are no longer checked")


def scorecard(
    slug: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The draft's eval run beside the live version's on the bound set (stored runs reused)."""
    with open_zhiku() as zk:
        card = zk.releases.scorecard(slug)
    if as_json:
        _json(card)
    else:
        print_scorecard(card)


def gate(
    app: str = typer.Argument(..., help="A published app (assistant, workflow or agent) "
                                        "bound to an eval set."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run the bound set on the live version now against its stored scorecard; exit 1 when a
    primary metric is worse beyond its interval (after a model, a knowledge base or Zhiku
    changed)."""
    with open_zhiku() as zk:
        card = zk.releases.gate(app)
    if as_json:
        _json(card)
    else:
        print_scorecard(card)
    if not card.passed:
        raise typer.Exit(1)


def add_app_commands(app: typer.Typer) -> None:
    """Register the release commands of ``zhiku apps``."""
    for name, command in (("bind-evals", bind_evals), ("unbind-evals", unbind_evals),
                          ("scorecard", scorecard)):
        app.command(name)(handle_errors(command))


def add_eval_commands(app: typer.Typer) -> None:
    """Register ``zhiku eval gate``."""
    app.command("gate")(handle_errors(gate))
