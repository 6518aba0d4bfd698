"""A small HR knowledge base and an extractive assistant, with turns in two channels."""

from __future__ import annotations

from zhiku.chat.store import Owner
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

DOCS = {
    "leave.md": "# 年假\n\n新员工入职第一年享有 5 天带薪年假。年假需提前两周向主管申请。\n",
    "expenses.md": "# Expenses\n\nExpense claims need the original receipt and the project "
                   "code. Claims are paid monthly.\n",
}
ANSWERED = "新员工有几天年假？"
REFUSED = "公司有没有远程办公政策？"


def seed(zk: Zhiku) -> dict[str, int]:
    """The HR base, assistant ``hr`` (extractive) and three conversations: an answered one over
    the chat channel, a refused one over openai, a refused one locally."""
    zk.create_kb("hr")
    report = zk.ingest_items("hr", [SourceItem(n, data=t.encode()) for n, t in DOCS.items()])
    assert not report.failed
    zk.create_assistant("HR", slug="hr", knowledge_bases=["hr"],
                        retrieval={"top_k": 5, "min_relevance": 0.3})
    a = zk.chat("hr", ANSWERED, owner=Owner(user_id=None), endpoint="chat")
    b = zk.chat("hr", REFUSED, endpoint="openai")
    c = zk.chat("hr", REFUSED + " ", )
    assert not a.answer.refused and b.answer.refused and c.answer.refused
    assert a.message_id and b.message_id and c.message_id
    return {"answered": a.message_id, "refused_openai": b.message_id,
            "refused_local": c.message_id, "conv_answered": a.conversation_id or 0,
            "conv_openai": b.conversation_id or 0, "conv_local": c.conversation_id or 0}
