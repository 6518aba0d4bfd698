"""``zhiku admin init``: the first workspace, its owner and an admin API key (printed once)."""

from __future__ import annotations

import sys

import typer

from zhiku.accounts.passwords import check_password
from zhiku.accounts.repo import AuthRepo
from zhiku.cli.context import handle_errors, print_json, say
from zhiku.core.errors import Conflict
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
    check_password(password, email)
    db = open_database(Settings())
    try:
        auth = AuthRepo(db)
        if auth.user_id(email) is not None:
            raise Conflict(f"user '{email}' already exists; nothing was changed")
        workspace_id = auth.workspace_id(workspace) or auth.create_workspace(workspace)
        user_id = auth.create_user(email, password, name=email.split("@")[0])
        auth.set_role(user_id, workspace_id, "owner")
        key, secret = auth.create_key(
            workspace_id, name="admin (zhiku admin init)", access="admin",
            kbs=None, assistants=None, created_by=user_id,
        )
    finally:
        db.close()
    if as_json:
        print_json({"workspace": workspace, "workspace_id": workspace_id, "user_id": user_id,
                    "key_id": key.id, "key": secret})
        return
    say("workspace ", (workspace, "bold"), ", owner ", (email, "bold"))
    say("admin API key (shown once — store it now):")
    print(secret)
