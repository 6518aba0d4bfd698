"""Why a question failed, from its metrics: one reason code per cause, root cause first.

- ``retrieval_miss`` (检索未命中): no expected source (or chunk) among the top-k retrieved;
- ``false_refusal`` (误拒答): refused although the question is answerable;
- ``answered_unanswerable`` (不该回答): answered a question the data cannot answer;
- ``wrong_refusal`` (拒答判断错误): a refusal decision that was wrong, on results that do not
  say which way;
- ``answer_mismatch`` (答案不匹配): retrieved, answered, but the answer does not match a reference;
- ``unfaithful`` (不忠实): the judge found the answer unsupported by its passages.

An answer matches a reference (see ``answer_matches``) when its token F1 is at least 0.5, or it
contains a reference, or it holds at least 80 % of a reference's tokens. Extractive answers
quote whole sentences: against a short reference ("30 天") their F1 is low although the answer
is right, so F1 alone would fail them.
"""

from __future__ import annotations

REASONS = ("retrieval_miss", "false_refusal", "answered_unanswerable", "wrong_refusal",
           "answer_mismatch", "unfaithful")
F1_PASS = 0.5
RECALL_PASS = 0.8


def answer_matches(metrics: dict[str, float]) -> bool:
    """True unless the answer metrics say the answer differs from every reference (no answer
    metrics: nothing to compare, so it matches)."""
    if "f1" not in metrics:
        return True
    return (metrics["f1"] >= F1_PASS or metrics.get("contains_answer", 0.0) == 1.0
            or metrics.get("reference_recall", 0.0) >= RECALL_PASS)


def reasons(metrics: dict[str, float], top_k: int) -> list[str]:
    """The reasons a question with these metrics failed, root cause first (empty: passed)."""
    out: list[str] = []
    if metrics.get(f"hit@{top_k}", 1.0) == 0.0:
        out.append("retrieval_miss")
    if metrics.get("false_refusal") == 1.0:
        out.append("false_refusal")
    if metrics.get("correct_refusal") == 0.0:
        out.append("answered_unanswerable")
    if metrics.get("refusal") == 0.0 and not {"false_refusal", "answered_unanswerable"} & {
            *out}:
        out.append("wrong_refusal")  # results stored without the two refusal rates
    if "false_refusal" not in out and not answer_matches(metrics):
        out.append("answer_mismatch")
    if metrics.get("faithfulness", 1.0) < 0.5:
        out.append("unfaithful")
    return out
