"""Zhiku as an MCP client: a server written here with the SDK's ``MCPServer``, run over stdio
as a subprocess, registered by the workspace; its tools are listed, called by an agent and by a
workflow tool node; a server that hangs, dies or times out is a clear error, never a hang.
A streamable-HTTP server (the same SDK, served by uvicorn on 127.0.0.1) is reached with the
stored headers."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripted_llm import Script
from zhiku.agents.service import workspace_tools
from zhiku.core.errors import Forbidden, NotFound
from zhiku.core.settings import Settings
from zhiku.mcp_client.client import McpError
from zhiku.service import Zhiku

pytest.importorskip("mcp")

SERVER = textwrap.dedent('''
    import os
    import sys
    import time

    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer("test-tools")


    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b


    @server.tool()
    def shout(text: str) -> str:
        """The text in capitals."""
        return text.upper() + os.environ.get("SHOUT_SUFFIX", "")


    @server.tool()
    def nap(seconds: float) -> str:
        """Sleep, then say so."""
        time.sleep(seconds)
        return "awake"


    @server.tool()
    def fail() -> str:
        """Always fails."""
        raise ToolError("the tool broke")


    if __name__ == "__main__":
        if len(sys.argv) > 1 and sys.argv[1] == "http":
            server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
        else:
            server.run()
''')

HANG = "import time\ntime.sleep(600)\n"  # starts, never speaks MCP


@pytest.fixture
def scripts(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "mcp_server.py").write_text(SERVER, encoding="utf-8")
    (tmp_path / "mcp_hang.py").write_text(HANG, encoding="utf-8")
    return {"server": str(tmp_path / "mcp_server.py"), "hang": str(tmp_path / "mcp_hang.py")}


@pytest.fixture
def tools_zk(zk: Zhiku, scripts: dict[str, str]) -> Zhiku:
    zk.agents.add_mcp_server("calc", command=sys.executable, args=[scripts["server"]],
                             env={"SHOUT_SUFFIX": "!"}, call_timeout_s=3,
                             connect_timeout_s=20, operator=True)
    return zk


def test_the_servers_tools_are_listed(tools_zk: Zhiku) -> None:
    listed = {t["name"]: t for t in tools_zk.agents.tools("calc")}
    assert sorted(listed) == ["calc__add", "calc__fail", "calc__nap", "calc__shout"]
    assert listed["calc__add"]["description"] == "Add two integers."
    assert listed["calc__add"]["parameters"]["required"] == ["a", "b"]
    shown = tools_zk.agents.sources.get("calc").to_dict()
    assert shown["secret_names"] == ["SHOUT_SUFFIX"] and "env" not in shown["config"]


def test_an_agent_calls_mcp_tools(tools_zk: Zhiku, scripted: Any, model: str) -> None:
    scripted.push(Script(text="", tool_calls=[("calc__add", '{"a": 2, "b": 40}'),
                                              ("calc__shout", '{"text": "hi"}'),
                                              ("calc__fail", "{}")]),
                  Script(text="42, HI!"))
    result = tools_zk.agents.run(
        {"model": model, "tools": ["calc__add", "calc__shout", "calc__fail"]}, "add")
    assert result.answer == "42, HI!"
    add, shout, fail = result.tool_calls
    assert add.ok and add.result == {"result": 42}
    assert shout.ok and shout.result == {"result": "HI!"}  # the secret env reached the server
    assert not fail.ok and "the tool broke" in fail.result


def test_a_workflow_tool_node_calls_an_mcp_tool(tools_zk: Zhiku) -> None:
    wf = {"nodes": [{"id": "start", "type": "start", "inputs": [{"name": "q"}]},
                    {"id": "t", "type": "tool", "tool": "calc__add",
                     "args": {"a": "1", "b": "2"}}],
          "edges": [{"source": "start", "target": "t"}]}
    tools_zk.workflows.create("adder", wf)
    run = tools_zk.workflows.run("adder", {"q": "x"})
    assert run.result.status == "succeeded", run.result.error
    assert run.result.node("t").outputs["result"] == {"result": 3}


def test_a_slow_tool_times_out(tools_zk: Zhiku, scripted: Any, model: str) -> None:
    scripted.push(Script(text="", tool_calls=[("calc__nap", '{"seconds": 30}')]),
                  Script(text="it timed out"))
    start = time.perf_counter()
    result = tools_zk.agents.run({"model": model, "tools": ["calc__nap"],
                                  "tool_timeout_s": 60}, "nap")
    assert time.perf_counter() - start < 25
    (nap,) = result.tool_calls
    assert not nap.ok and "did not answer the call of 'nap'" in nap.result
    assert result.answer == "it timed out"


def test_a_hanging_server_is_a_clear_error(zk: Zhiku, scripts: dict[str, str],
                                           scripted: Any, model: str) -> None:
    zk.agents.add_mcp_server("stuck", command=sys.executable, args=[scripts["hang"]],
                             connect_timeout_s=1.5, operator=True)
    start = time.perf_counter()
    with pytest.raises(McpError, match=r"'stuck' did not list its tools within 1\.5 s"):
        zk.agents.tools("stuck")
    assert time.perf_counter() - start < 15
    with pytest.raises(McpError, match="did not list its tools"):
        zk.agents.run({"model": model, "tools": ["stuck__anything"]}, "hi")


def test_only_the_operator_or_the_listed_programs_run_as_stdio_servers(zk: Zhiku) -> None:
    with pytest.raises(Forbidden, match="ZHIKU_MCP_STDIO_COMMANDS"):
        zk.agents.add_mcp_server("shell", command="/bin/sh", args=["-c", "true"])
    with pytest.raises(NotFound):
        zk.agents.sources.get("shell")
    listed = Settings(home=zk.settings.home, embedder="hashing",
                      mcp_stdio_commands=[sys.executable])
    with Zhiku(listed) as allowed:
        allowed.agents.add_mcp_server("py", command=sys.executable, args=["-V"])
        assert allowed.agents.sources.get("py").config["command"] == sys.executable


def test_a_server_that_cannot_start_is_a_clear_error(zk: Zhiku) -> None:
    zk.agents.add_mcp_server("gone", command="/nonexistent/mcp-server", connect_timeout_s=5,
                             operator=True)
    with pytest.raises(McpError, match="'gone' failed to list its tools"):
        zk.agents.tools("gone")
    zk.agents.add_mcp_server("dies", command=sys.executable, args=["-c", "raise SystemExit(3)"],
                             connect_timeout_s=5, operator=True)
    with pytest.raises(McpError, match="'dies'"):
        zk.agents.tools("dies")
    with pytest.raises(NotFound):
        zk.agents.tools("never-registered")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(scripts: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, scripts["server"], "http", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_streamable_http_server(zk: Zhiku, http_server: str) -> None:
    zk.agents.add_mcp_server("remote", url=http_server,
                             headers={"Authorization": "Bearer mcp-secret-123456"})
    assert "remote__add" in [t["name"] for t in zk.agents.tools("remote")]
    assert workspace_tools(zk).get("remote__add").call({"a": 5, "b": 6}) == {"result": 11}
    assert "mcp-secret" not in str(zk.agents.sources.get("remote").to_dict())
