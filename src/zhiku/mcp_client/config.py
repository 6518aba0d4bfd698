"""An MCP server's settings: a stdio command or a streamable-HTTP URL, and time-outs.

Secrets (environment values of a stdio server, HTTP headers of a URL) are kept apart, in the
tool source's encrypted secrets.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class McpServerConfig(BaseModel):
    """How to reach one MCP server."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["stdio", "http"]
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    cwd: str | None = None
    url: str | None = None
    connect_timeout_s: float = Field(20.0, gt=0, le=300,
                                     description="starting the server and listing its tools")
    call_timeout_s: float = Field(60.0, gt=0, le=3600, description="one tool call")
    operator: bool = Field(False, description="registered by this machine's operator (the "
                           "CLI): its URL may be an internal address")

    @model_validator(mode="after")
    def _endpoint(self) -> McpServerConfig:
        if self.transport == "stdio" and not self.command:
            raise ValueError("a stdio MCP server needs a command")
        if self.transport == "http" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError("an HTTP MCP server needs an http(s) URL")
        return self
