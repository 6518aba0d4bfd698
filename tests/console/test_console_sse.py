"""The one server-sent-events reader (``sse.js``) that the console's API client and the public
share page both use: what it yields from a real ``Response`` split at awkward places (run in
Node), and that the share page reads its stream through it without loading the console shell."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from zhiku.console import STATIC

JS = STATIC / "js"


def _imports(name: str, seen: set[str] | None = None) -> set[str]:
    """The modules ``name`` loads, itself included (static imports, followed through)."""
    seen = set() if seen is None else seen
    seen.add(name)
    for target in re.findall(r'from "\./([\w-]+\.js)"|^import "\./([\w-]+\.js)"',
                             (JS / name).read_text(encoding="utf-8"), re.M):
        found = next(t for t in target if t)
        if found not in seen:
            _imports(found, seen)
    return seen


def test_share_page_and_api_client_share_one_reader() -> None:
    assert "sse.js" in _imports("api.js") and "sse.js" in _imports("sharepage.js")
    # the share page is public: none of the console shell (its navigation, sign-in, API client)
    assert _imports("sharepage.js") == {"sharepage.js", "sse.js", "i18n.js", "ui.js",
                                        "shellstrings.js", "richtext.js"}
    for path in JS.glob("*.js"):
        if path.name != "sse.js":
            assert 'indexOf("\\n\\n")' not in path.read_text(encoding="utf-8"), path.name


READ = """
import { readEvents } from "./sse.mjs";
const chunks = JSON.parse(process.argv[2]);
const body = new ReadableStream({ start(c) {
  for (const s of chunks) c.enqueue(Uint8Array.from(s, (ch) => ch.charCodeAt(0)));
  c.close();
} });
const got = [];
try {
  await readEvents(new Response(body), (event, data, raw) => {
    if (event === "stop") throw new Error(`stopped at ${raw}`);
    got.push([event, data]);
  });
} catch (e) { got.push(["thrown", e.message]); }
console.log(JSON.stringify(got));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is absent")
def test_reader_yields_each_event_across_chunk_boundaries(tmp_path: Path) -> None:
    shutil.copy(JS / "sse.js", tmp_path / "sse.mjs")
    stream = ('event: token\ndata: {"text": "年假"}\n\n'
              'data: plain text\n\n'
              'event: citations\ndata: [{"n": 1,\ndata:  "title": "HR"}]\n\n'
              'event: stop\ndata: here\n\n'
              'event: token\ndata: {"text": "never"}\n\n')
    encoded = stream.encode()
    # split inside a multi-byte character and inside the blank line between events
    cuts = [encoded.index("年".encode()) + 1, encoded.index(b"\n\ndata: plain") + 1]
    pieces = [encoded[:cuts[0]], encoded[cuts[0]:cuts[1]], encoded[cuts[1]:]]
    chunks = [p.decode("latin-1") for p in pieces]  # one character a byte, through JSON
    (tmp_path / "read.mjs").write_text(READ, encoding="utf-8")
    out = subprocess.run(["node", str(tmp_path / "read.mjs"), json.dumps(chunks)],
                         check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == [
        ["token", {"text": "年假"}],
        ["message", "plain text"],
        ["citations", [{"n": 1, "title": "HR"}]],
        ["thrown", "stopped at here"],
    ]
