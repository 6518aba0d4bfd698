"""``zhiku admin init``: the first workspace, its owner and an admin API key (printed once)."""

from __future__ import annotations

import sys

import typer

from zhiku.accounts.bootstrap import bootstrap
from zhiku.accounts.passwords import check_password
from zhiku.accounts.secrets import HashCost
from zhiku.cli.context import handle_errors, print_json, say
from zhiku.core.settings import Settings
from zhiku.store.db import open_database

app = typer.Typer(help="Administer the server: first-run set-up.", no_args_is_help=True)


@app.command("init")
@handle_errors
def init(
    email: str = typer.Option(..., help="The owner's e-mail (their login)."),
    workspace: str = typer.Option("default", help="The first workspace."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create the first workspace, its owner and an admin API key (shown once)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Owner password", hide_input=True, confirmation_prompt=True)
    check_password(password, email)  # before the database is opened (and so created)
    settings = Settings()
    db = open_database(settings)
    try:
        made = bootstrap(db, email, password, workspace, cost=HashCost.of(settings))
    finally:
        db.close()
    if as_json:
        print_json({"workspace": workspace, "workspace_id": made.workspace_id,
                    "user_id": made.user_id, "key_id": made.key_id, "key": made.key})
        return
    say("workspace ", (workspace, "bold"), ", owner ", (email, "bold"))
    say("admin API key (shown once — store it now):")
    print(made.key)
