"""What a reader sees of a stored result (``zhiku.evals.withhold``): passages it may not read
keep their id, rank and score; the answer, their citations and the judge's reasons go."""

from __future__ import annotations

from zhiku.evals.types import QuestionResult, Retrieved, Verdict
from zhiku.evals.withhold import Sight, withhold


def _result(citations: list[str]) -> QuestionResult:
    return QuestionResult(
        ord=0, ext_id="q", question="what is the code", metrics={"hit@1": 1.0}, latency_ms=1.0,
        retrieved=[Retrieved(1, "secret.md", 0.9), Retrieved(2, "public.md", 0.5)],
        answer="The code is QX7731.", refused=False, citations=citations,
        judge=Verdict("judge", 5, 5, reasons="It quotes QX7731."),
    )


def test_a_hidden_passage_takes_the_answer_its_citation_and_the_reasons() -> None:
    r = withhold(_result(["secret.md", "public.md"]), Sight(frozenset({2}), everything=False))
    assert r.withheld and r.answer is None and r.judge is not None and r.judge.reasons == ""
    assert [(x.chunk_id, x.source, x.score, x.withheld) for x in r.retrieved] == [
        (1, "", 0.9, True), (2, "public.md", 0.5, False)]
    assert r.citations == ["", "public.md"]
    assert r.metrics == {"hit@1": 1.0} and r.judge.faithfulness == 5


def test_a_fully_readable_result_is_whole() -> None:
    r = withhold(_result(["secret.md"]), Sight(frozenset({1, 2}), everything=False))
    assert not r.withheld and r.answer == "The code is QX7731."
    assert r.citations == ["secret.md"]


def test_a_citation_of_no_retrieved_passage_is_shown_only_to_who_reads_everything() -> None:
    shown = Sight(frozenset({1, 2}), everything=True)
    assert not withhold(_result(["elsewhere.md"]), shown).withheld
    limited = withhold(_result(["elsewhere.md"]), Sight(frozenset({1, 2}), everything=False))
    assert limited.withheld and limited.citations == [""] and limited.answer is None
