"""Eval questions as each reader may see them: a question pointing at a document the reader may
not read (an expected chunk's document, a document an expected source names by its source, a
trailing part of its path, its file name or its stem, or a document the corrected answer it was
made from cited) is withheld; one pointing at a chunk or document that no longer exists is
withheld from every limited reader; a run as a limited reader questions only what it may see.
Core functions, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhiku.answer.types import Answer, Citation
from zhiku.evals import feedback, runs, scoring, sets, withhold
from zhiku.evals.types import CITED_SOURCES, EvalQuestion
from zhiku.ingest.pipeline import SourceItem
from zhiku.permissions.context import reading_as
from zhiku.service import Zhiku
from zhiku.store.reader import EVERYTHING, PUBLIC, Reader

SECRET = "salary bands payroll secret quarterly salary review"
OPEN = "payroll calendar: salary is paid on the last day"


@pytest.fixture
def corpus(zk: Zhiku, tmp_path: Path) -> dict[str, int]:
    """``hr/pay_2024.txt`` restricted to ``hr``, ``open/faq.txt`` and ``open/pay%2024.txt``
    public (names with LIKE wildcards); the ids of their first chunks and of ``hr``."""
    zk.create_kb("kb", embedder="hashing")
    hr = zk.permissions.create_group("hr").id
    (tmp_path / "hr").mkdir()
    (tmp_path / "open").mkdir()
    (tmp_path / "hr" / "pay_2024.txt").write_text(SECRET)
    (tmp_path / "open" / "faq.txt").write_text(OPEN)
    (tmp_path / "open" / "pay%2024.txt").write_text(OPEN + " again")
    with reading_as(EVERYTHING):
        zk.ingest("kb", [tmp_path / "hr"], groups=["hr"])
        zk.ingest("kb", [tmp_path / "open"])
    docs = {Path(d.source).name: d for d in zk.store.list_documents(zk.kb("kb").id)}
    first = {name: zk.store.list_chunks(d.id)[0].id for name, d in docs.items()}
    return {"hr": hr, "secret": first["pay_2024.txt"], "open": first["faq.txt"],
            "secret_doc": docs["pay_2024.txt"].id}


def _set(zk: Zhiku, *questions: EvalQuestion) -> list[EvalQuestion]:
    sets.create_set(zk.evals, "s", questions, replace=True)
    return sets.questions(zk.evals, "s")


def _hidden(zk: Zhiku, questions: list[EvalQuestion], reader: Reader) -> set[str]:
    ids = withhold.hidden_questions(zk.evals.passages, zk.workspace_id, questions, reader)
    return {q.ext_id for q in questions if q.id in ids}


def test_sources_name_documents_exactly(zk: Zhiku, corpus: dict[str, int]) -> None:
    """Each way of naming the restricted file withholds the question; names that only look
    alike to SQL's LIKE (``_``, ``%``, another extension, another case) do not."""
    named = ["pay_2024.txt", "hr/pay_2024.txt", "pay_2024"]
    alike = ["pay%2024.txt", "pay%2024", "faq", "open/faq.txt"]
    questions = _set(zk, *[EvalQuestion(f"q {n}", ext_id=n, expected_sources={n: 1})
                           for n in named + alike])
    full = next(d.source for d in zk.store.list_documents(zk.kb("kb").id)
                if d.id == corpus["secret_doc"])
    assert _hidden(zk, questions, PUBLIC) == set(named)
    assert _hidden(zk, questions, Reader.of([corpus["hr"]])) == set()
    assert _hidden(zk, questions, EVERYTHING) == set()
    whole = _set(zk, EvalQuestion("q", ext_id="full", expected_sources={full: 1}))
    assert _hidden(zk, whole, PUBLIC) == {"full"}


def test_a_name_of_a_readable_source_may_also_name_a_restricted_document(
        zk: Zhiku, tmp_path: Path) -> None:
    """``notes.txt`` is the whole source of a public document and a trailing part of a
    restricted one's: it names both, so its question is withheld from those outside."""
    zk.create_kb("kb", embedder="hashing")
    hr = zk.permissions.create_group("hr").id
    (tmp_path / "hr").mkdir()
    (tmp_path / "hr" / "notes.txt").write_text(SECRET)
    with reading_as(EVERYTHING):
        zk.ingest_items("kb", [SourceItem("notes.txt", data=OPEN.encode())])
        zk.ingest("kb", [tmp_path / "hr"], groups=["hr"])
    sources = sorted(d.source for d in zk.store.list_documents(zk.kb("kb").id))
    assert "notes.txt" in sources and len(sources) == 2
    questions = _set(zk, EvalQuestion("q", ext_id="notes", expected_sources={"notes.txt": 1}))
    assert _hidden(zk, questions, PUBLIC) == {"notes"}
    assert _hidden(zk, questions, Reader.of([hr])) == set()


def test_chunks_and_missing_documents(zk: Zhiku, corpus: dict[str, int]) -> None:
    questions = _set(
        zk,
        EvalQuestion("secret chunk", ext_id="secret", expected_chunks={corpus["secret"]: 1}),
        EvalQuestion("open chunk", ext_id="open", expected_chunks={corpus["open"]: 1},
                     expected_sources={"faq.txt": 1}),
        EvalQuestion("gone chunk", ext_id="gone-chunk", expected_chunks={10**9: 1}),
        EvalQuestion("gone file", ext_id="gone-file", expected_sources={"nowhere.md": 1}),
        EvalQuestion("nothing expected", ext_id="none", answerable=False),
    )
    hr = Reader.of([corpus["hr"]])
    assert _hidden(zk, questions, PUBLIC) == {"secret", "gone-chunk", "gone-file"}
    assert _hidden(zk, questions, hr) == {"gone-chunk", "gone-file"}
    assert _hidden(zk, questions, EVERYTHING) == set()
    zk.store.set_document_groups([corpus["secret_doc"]], None)  # nothing restricted
    assert _hidden(zk, questions, PUBLIC) == set()


def test_a_corrected_answers_citations_withhold_its_question_but_are_not_scored(
        zk: Zhiku, corpus: dict[str, int]) -> None:
    """A question made from a corrected answer expects no sources (the correction replaced the
    answer), yet still points at what the answer cited: stored with the set, it is withheld
    from a reader who may not read the cited document, and scored as if nothing was cited."""
    secret = next(d.source for d in zk.store.list_documents(zk.kb("kb").id)
                  if d.id == corpus["secret_doc"])
    cite = Citation(n=1, source=secret, document_id=corpus["secret_doc"],
                    chunk_id=corpus["secret"], title=None, location="", page=None,
                    heading_path=[], score=1.0, text=SECRET)
    logged = feedback.log_answer(zk, "kb:kb", "what are the salary bands",
                                 Answer("See the quarterly salary review. [1]", [cite]))
    feedback.add_feedback(zk, logged, -1, corrected_answer="The bands are reviewed quarterly.")
    [made] = feedback.eval_questions(feedback.list_answers(zk))
    assert made.expected_sources == {} and made.metadata[CITED_SOURCES] == [secret]
    stored = _set(zk, made, EvalQuestion("when is salary paid", ext_id="paid",
                                         expected_sources={"faq.txt": 1}))
    assert stored[0].cited_sources == [secret] and stored[0].expected_sources == {}
    assert _hidden(zk, stored, PUBLIC) == {made.ext_id}
    assert _hidden(zk, stored, Reader.of([corpus["hr"]])) == set()
    assert _hidden(zk, stored, EVERYTHING) == set()
    bare = EvalQuestion(made.question, reference_answers=made.reference_answers)
    answer = ("The bands are reviewed quarterly.", False, [secret])
    metrics = scoring.score(stored[0], [secret], [corpus["secret"]], [5], answer)
    assert metrics == scoring.score(bare, [secret], [corpus["secret"]], [5], answer)
    assert not any(name.startswith(("ndcg", "hit", "citation")) for name in metrics)


def test_blanked_questions_keep_id_tags_and_answerable(zk: Zhiku,
                                                      corpus: dict[str, int]) -> None:
    _set(zk, EvalQuestion("what are the salary bands", ext_id="bands",
                          expected_chunks={corpus["secret"]: 1},
                          expected_sources={"pay_2024.txt": 1},
                          reference_answers=["quarterly salary review"], tags=["hr"],
                          metadata={"chunk_id": corpus["secret"]}),
         EvalQuestion("when is salary paid", ext_id="paid",
                      expected_sources={"faq.txt": 1}))
    public = sets.questions_as(zk.evals, "s", PUBLIC)
    assert [q.ext_id for q in public] == ["bands", "paid"]
    bands, paid = public
    assert (bands.withheld, bands.question, bands.tags, bands.answerable) == \
        (True, "", ["hr"], True)
    assert not (bands.expected_chunks or bands.expected_sources or bands.reference_answers
                or bands.metadata)
    assert not paid.withheld and paid.question == "when is salary paid"
    whole = sets.questions_as(zk.evals, "s", Reader.of([corpus["hr"]]))
    assert [q.withheld for q in whole] == [False, False]
    assert whole[0].reference_answers == ["quarterly salary review"]


def test_a_limited_run_questions_only_what_it_may_see(zk: Zhiku,
                                                     corpus: dict[str, int]) -> None:
    _set(zk, EvalQuestion("salary bands payroll secret", ext_id="bands",
                          expected_sources={"pay_2024.txt": 1}),
         EvalQuestion("when is salary paid", ext_id="paid", expected_sources={"faq.txt": 1}))
    target = zk.eval_target("kb", "kb", "keyword")
    with reading_as(PUBLIC):
        limited = runs.run_eval(zk.evals, target, "s")
    with reading_as(EVERYTHING):
        full = runs.run_eval(zk.evals, target, "s")
        assert [r.ext_id for r in runs.results(zk.evals, limited.id)] == ["paid"]
    assert limited.summary["questions"] == 1
    assert limited.summary["withheld_questions"] == 1
    assert full.summary["questions"] == 2 and "withheld_questions" not in full.summary
    public = runs.results(zk.evals, full.id, PUBLIC)
    bands = public[0]
    assert (bands.ext_id, bands.question, bands.answer, bands.citations, bands.withheld) == \
        ("bands", "", None, [], True)
    assert bands.retrieved and all(x.withheld and not x.source for x in bands.retrieved)
    assert bands.metrics == runs.results(zk.evals, full.id, EVERYTHING)[0].metrics
    assert public[1].question == "when is salary paid"
    member = runs.results(zk.evals, full.id, Reader.of([corpus["hr"]]))
    assert member[0].question == "salary bands payroll secret" and not member[0].withheld
    sets.create_set(zk.evals, "only-secret", [EvalQuestion(
        "salary bands payroll secret", ext_id="bands", expected_sources={"pay_2024.txt": 1})])
    with reading_as(PUBLIC):
        nothing = runs.run_eval(zk.evals, target, "only-secret")
    assert (nothing.status, nothing.summary["questions"]) == ("done", 0)
    assert runs.withheld_count(nothing) == 1 and runs.results(zk.evals, nothing.id) == []
    sets.delete_set(zk.evals, "s")  # a deleted set: only the passages decide
    gone = runs.results(zk.evals, full.id, PUBLIC)[0]
    assert gone.question == "salary bands payroll secret"
    assert all(not x.source for x in gone.retrieved if x.withheld)


def test_release_scorecards_are_reused_only_by_readers_leaving_out_as_much(zk: Zhiku) -> None:
    """A scorecard run by a reader who may not read a document leaves out its question; the
    same reader reuses it, a reader who sees every question measures again."""
    from releasedata import seed

    seed(zk)
    zk.releases.bind("hr-bot", "hr")
    group = zk.permissions.create_group("canteen").id
    doc = next(d for d in zk.store.list_documents(zk.kb("hr").id)
               if d.source.endswith("canteen.md"))
    zk.store.set_document_groups([doc.id], [group])
    with reading_as(PUBLIC):
        limited = zk.releases.scorecard("hr-bot")
        again = zk.releases.scorecard("hr-bot")
    run = limited.candidate.run
    assert runs.withheld_count(run) == 1
    assert limited.baseline is not None and limited.baseline.run.id == run.id
    assert again.candidate.reused and again.candidate.run.id == run.id
    with reading_as(EVERYTHING):
        full = zk.releases.scorecard("hr-bot")
    assert not full.candidate.reused and runs.withheld_count(full.candidate.run) == 0
    assert full.candidate.run.summary["questions"] == run.summary["questions"] + 1
