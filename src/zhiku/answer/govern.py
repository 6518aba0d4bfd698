"""What an ungrounded model answer becomes, by the assistant's policy.

An answer is ungrounded when no valid citation survived verification and it is not a refusal.
``warn`` keeps it (``grounded`` false, for clients to show a warning), ``extractive`` replaces it
by the extractive answer over the passages the model was given (with its citations; the refusal
when those passages hold no answer sentence), ``refuse`` replaces it by the refusal text.
"""

from __future__ import annotations

from collections.abc import Sequence

from zhiku.answer.citations import MARKER_RE
from zhiku.answer.extractive import ExtractiveAnswerer
from zhiku.answer.grounded import GroundedAnswer
from zhiku.answer.types import UngroundedPolicy, UngroundedReason
from zhiku.retrieval.types import Hit

POLICIES: tuple[UngroundedPolicy, ...] = ("warn", "extractive", "refuse")


def ungrounded_reason(answer: GroundedAnswer) -> UngroundedReason | None:
    """Why ``answer`` is not grounded, or None when it is (cited, or a refusal)."""
    if answer.refused or answer.citations:
        return None
    return "invalid_citations" if answer.removed_citations else "no_citation"


def govern(
    answer: GroundedAnswer,
    policy: UngroundedPolicy,
    *,
    question: str,
    passages: Sequence[Hit],
    refusal: str,
    min_relevance: float,
    keep_markers: bool = True,
) -> GroundedAnswer:
    """Apply ``policy`` to ``answer`` in place (and return it); grounded answers pass as they are.

    ``passages``: the documents the model was given, in the order it numbered them.
    """
    reason = ungrounded_reason(answer)
    if reason is None:
        return answer
    answer.flagged = True
    answer.ungrounded_reason = reason
    answer.ungrounded_action = policy
    if policy == "warn":
        answer.grounded = False
        return answer
    if policy == "extractive":
        found = ExtractiveAnswerer(min_relevance).answer(question, list(passages))
        if not found.refused and found.citations:
            text = found.answer if keep_markers else MARKER_RE.sub("", found.answer).strip()
            answer.answer, answer.citations = text, found.citations
            return answer
    answer.answer, answer.citations, answer.refused = refusal, [], True
    answer.ungrounded_action = "refuse"
    return answer
