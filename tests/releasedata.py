"""A small real knowledge base, an extractive assistant over it and an eval set whose answers it
holds: eight HR notes, one question each. Each question holds a word no note has ("usually"),
so every top passage answers at a relevance between 0.4 and 0.8: the assistant answers all
eight with the default floor (0.3) and refuses all eight with a floor of 0.99."""

from __future__ import annotations

from typing import Any

from zhiku.evals import sets
from zhiku.evals.types import EvalQuestion
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

NOTES = {
    "leave.md": ("New employees get 10 days of paid annual leave in their first year.",
                 "How many days of paid annual leave do new employees usually get?", "10 days"),
    "expenses.md": ("Travel expenses are reimbursed within 30 days after the receipts are "
                    "submitted.", "Within how many days are travel expenses usually reimbursed?",
                    "within 30 days"),
    "security.md": ("Laptops must be locked with a password of at least 12 characters.",
                    "How many characters must a laptop password usually have?",
                    "at least 12 characters"),
    "parking.md": ("The office car park opens at 7 am and closes at 9 pm on weekdays.",
                   "When does the office car park usually open?", "7 am"),
    "canteen.md": ("The canteen serves lunch from noon until 2 pm.",
                   "Until when does the canteen usually serve lunch?", "2 pm"),
    "remote.md": ("Staff may work from home two days a week with their manager's approval.",
                  "How many days a week may staff usually work from home?", "two days"),
    "training.md": ("Every employee has a training budget of 1500 euros per year.",
                    "How large is the training budget of an employee usually?", "1500 euros"),
    "payday.md": ("Salaries are paid on the 25th of each month.",
                  "On which day of the month are salaries usually paid?", "the 25th"),
}
KEPT = "leave.md"
"""The one note ``break_kb`` keeps."""


def seed(zk: Zhiku, *, publish: bool = True) -> None:
    """Knowledge base ``hr`` (hashing embedder), assistant ``hr-bot`` (extractive; v1 published
    unless ``publish`` is false) and eval set ``hr``."""
    zk.create_kb("hr", embedder="hashing")
    zk.ingest_items("hr", [SourceItem(name, data=f"# Note\n\n{text}\n".encode())
                           for name, (text, _, _) in NOTES.items()])
    zk.create_assistant("HR Bot", knowledge_bases=["hr"])
    if publish:
        zk.publish_assistant("hr-bot")
    sets.create_set(zk.evals, "hr", [
        EvalQuestion(question, ext_id=name.removesuffix(".md"), expected_sources={name: 1},
                     reference_answers=[answer])
        for name, (_, question, answer) in NOTES.items()
    ])


def break_kb(zk: Zhiku) -> None:
    """A knowledge base change that breaks retrieval: every note but one is deleted."""
    for name in NOTES:
        if name != KEPT:
            zk.delete_document("hr", name)


def flow(*, top_k: int = 8, min_relevance: float = 0.3,
         text: str = "{{ ans.answer }}") -> dict[str, Any]:
    """A chat-shaped workflow over ``hr``: the question, the grounded answerer (extractive,
    ``top_k`` passages above ``min_relevance``), an answer rendered from ``text`` with the
    answerer's citations."""
    return {
        "description": "HR answers with citations.",
        "nodes": [
            {"id": "start", "type": "start", "inputs": [{"name": "question"}]},
            {"id": "ans", "type": "answer_grounded", "knowledge_bases": ["hr"],
             "question": "{{ start.question }}", "top_k": top_k,
             "min_relevance": min_relevance},
            {"id": "out", "type": "answer", "text": text, "citations": "ans.citations"},
        ],
        "edges": [{"source": "start", "target": "ans"}, {"source": "ans", "target": "out"}],
    }
