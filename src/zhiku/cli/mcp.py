"""``zhiku mcp serve``: the workspace's knowledge bases and published assistants as MCP tools."""

from __future__ import annotations

import typer

from zhiku.cli.context import handle_errors
from zhiku.core.errors import InvalidInput
from zhiku.core.extras import require_extra
from zhiku.core.settings import Settings

app = typer.Typer(help="MCP: serve knowledge bases and assistants to MCP clients.",
                  no_args_is_help=True)


@app.command("serve")
@handle_errors
def serve(
    key: str = typer.Option(
        None, "--key", help="API key (default: ZHIKU_MCP_API_KEY); its workspace and scope apply."
    ),
) -> None:
    """Serve MCP on stdin/stdout for a local client (HTTP clients use /mcp of `zhiku serve`)."""
    require_extra("mcp", "the MCP server")
    settings = Settings()
    secret = key or (settings.mcp_api_key.get_secret_value() if settings.mcp_api_key else "")
    if not secret:
        raise InvalidInput("give --key or set ZHIKU_MCP_API_KEY (create one: zhiku admin init "
                           "prints one, or POST /v1/keys)")
    from zhiku.mcp.stdio import serve as serve_stdio

    serve_stdio(settings, secret)
