"""An agent's knowledge tool runs in a worker thread: it still searches as the caller (the
reader goes with the thread), on the real loop against the scripted model server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripted_llm import Script
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.permissions.context import reading_as
from zhiku.service import Zhiku
from zhiku.store.reader import EVERYTHING, PUBLIC, Reader

SECRET = "# Bonus\n\nThe bonus pool code is AG8812 this year.\n"
PUBLIC_DOC = "# Leave\n\nThe bonus pool rules come out each spring.\n"


@pytest.mark.parametrize("who", ["member", "public"])
def test_knowledge_tool_reads_as_the_caller(zhiku_home: Path, scripted: Any, who: str) -> None:
    with Zhiku(Settings(home=zhiku_home, embedder="hashing")) as zk:
        zk.create_kb("kb")
        hr = zk.permissions.create_group("hr").id
        with reading_as(EVERYTHING):
            zk.ingest_items("kb", [SourceItem("bonus.md", data=SECRET.encode(), groups=(hr,)),
                                   SourceItem("leave.md", data=PUBLIC_DOC.encode())])
        zk.add_provider("scripted", base_url=scripted.url, models=["m"], max_retries=0)
        scripted.push(Script(text="", tool_calls=[("knowledge_search",
                                                   '{"query": "bonus pool code"}')]),
                      Script(text="Done [1]."))
        config = {"name": "helper", "model": "scripted/m", "instructions": "Be brief.",
                  "tools": [], "knowledge_bases": ["kb"]}
        with reading_as(Reader.of([hr]) if who == "member" else PUBLIC):
            result = zk.agents.run(config, "What is the bonus pool code?")
        passages = json.dumps(result.tool_calls[0].result, ensure_ascii=False)
        sent = json.dumps(scripted.chat_requests[-1]["messages"], ensure_ascii=False)
        if who == "member":
            assert "AG8812" in passages and "AG8812" in sent
        else:
            assert "leave.md" in passages
            assert "AG8812" not in passages and "AG8812" not in sent
