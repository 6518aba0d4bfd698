"""The default answerer, with no LLM: the best sentences of the top hits, each one cited.

A sentence is scored by the share of the question's content units (question words excluded)
it holds; the best one is quoted, then only sentences nearly as good or adding units it
lacks, so a sentence that shares a word with the question does not ride along, and pieces
that are not whole sentences (a split inside parentheses or code, a lower-case continuation)
are never quoted. Neither are questions (an FAQ's question echoes the one asked; its answer
is quoted without its "A:" label), nor a sentence saying what a quoted one already says.
When the evidence only just reaches ``min_relevance``, the quoted sentences must hold more
than half of the question's content units, or the answerer refuses: two generic words of the
question ("company policy") do not answer it. The best passage, and each passage the question
names (by its title, first heading or title line: "Kirton End" in "the city in which Kirton
End is located"), always gives a sentence when one of its sentences matches: they are what the
question is about, even when other passages echo more of its other words (a two-hop question's
bridge). The rules were chosen on the train halves of the answer-trust sets
(bench/answer_trust.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from zhiku.answer.types import REFUSAL, Answer, Citation
from zhiku.retrieval.relevance import content_units, folded
from zhiku.retrieval.types import Hit
from zhiku.text.lang import detect_language
from zhiku.text.sentences import split_sentences
from zhiku.text.tokenize import analyze, has_cjk

# A further sentence is quoted when it scores this share of the best one, or adds this share
# of the question's content units the sentences before it lack.
NEAR_BEST = 0.6
MIN_GAIN = 0.15
# Evidence within this of ``min_relevance`` is borderline: the quoted sentences must hold more
# than BORDERLINE_COVER of the question's content units.
BORDERLINE = 0.1
BORDERLINE_COVER = 0.5
_QUESTION_LABEL = re.compile(r"^\s*(?:Q|Question|问|问题)\s*[:：]", re.IGNORECASE)
_ANSWER_LABEL = re.compile(r"^\s*(?:A|Answer|答|回答)\s*[:：]\s*", re.IGNORECASE)
_QUESTION_END = re.compile(r"[?？][\s\"'”’）)*_]*$")
_NOT_WORD = re.compile(r"[\W_]+")
_FRAGMENT_START = re.compile(r"^[a-z)\]}>,;:.!?，。；：、）」』》]")
_WORD = re.compile(r"[^\W_]+")
# A passage's name (title, first heading, title line) counts when the question holds it whole
# and it is at least this long (Latin letters; Chinese names from two characters).
MIN_NAME = 4
MAX_TITLE_LINE = 80
_FILE_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm"})


@dataclass(slots=True)
class _Candidate:
    score: float
    hit_rank: int
    position: int
    sentence: str
    matches: tuple[float, ...] = ()  # how much of each content unit the sentence holds


class ExtractiveAnswerer:
    """Picks up to ``max_sentences`` sentences that share the most query terms.

    Refuses (without inventing anything) when no hit reaches ``min_relevance``.
    """

    def __init__(self, min_relevance: float = 0.3, max_sentences: int = 3, max_hits: int = 5):
        self.min_relevance = min_relevance
        self.max_sentences = max_sentences
        self.max_hits = max_hits

    def answer(self, question: str, hits: list[Hit]) -> Answer:
        """Answer from the hits, or refuse."""
        lang = detect_language(question)
        evidence = [h for h in hits if h.relevance >= self.min_relevance][: self.max_hits]
        if not evidence:
            return Answer(REFUSAL[lang], refused=True, hits=hits)
        units = content_units(question)
        candidates: list[_Candidate] = []
        for rank, hit in enumerate(evidence):
            for pos, raw in enumerate(split_sentences(hit.text)):
                if not units or is_question(raw):
                    continue
                sentence = _ANSWER_LABEL.sub("", raw)
                if not sentence or is_fragment(sentence):
                    continue
                present = folded(analyze(sentence))
                matches = tuple(u.match(present) for u in units)
                if any(matches):
                    score = sum(matches) / len(units) / (1 + 0.15 * rank) + 0.01 * hit.relevance
                    candidates.append(_Candidate(score, rank, pos, sentence, matches))
        if candidates:
            chosen = self._cover(candidates, len(units), anchors(question, evidence))
            best = max(h.relevance for h in evidence)
            held = [max(c.matches[i] for c in chosen) for i in range(len(units))]
            if best < self.min_relevance + BORDERLINE and \
                    sum(held) / len(units) <= BORDERLINE_COVER:
                return Answer(REFUSAL[lang], refused=True, hits=hits)
        else:  # relevant by meaning only: quote the start of the best passage
            first = split_sentences(evidence[0].text)[:1] or [evidence[0].text[:300]]
            chosen = [_Candidate(0.0, 0, 0, first[0])]
        chosen.sort(key=lambda c: (c.hit_rank, c.position))
        citations: dict[int, Citation] = {}
        parts: list[str] = []
        joiner = "" if lang == "zh" else " "  # Chinese takes no spaces, even before [n]
        for cand in chosen:
            hit = evidence[cand.hit_rank]
            cite = citations.get(hit.chunk_id)
            if cite is None:
                cite = Citation.from_hit(len(citations) + 1, hit, cand.sentence)
                citations[hit.chunk_id] = cite
            elif cand.sentence not in cite.quote:
                cite.quote += " " + cand.sentence
            parts.append(f"{cand.sentence}{joiner}[{cite.n}]")
        return Answer(joiner.join(parts), list(citations.values()), refused=False, hits=hits)

    def _cover(
        self, candidates: list[_Candidate], n_units: int, anchors: Sequence[int] = (0,)
    ) -> list[_Candidate]:
        """The best sentence, then, best first, those that score NEAR_BEST of it (a second
        passage's bridge sentence) or add MIN_GAIN of the question's content it lacks (the
        other part of a two-part question); one-word echoes do neither. Each anchor passage
        (by rank: the best one, those the question names) without a sentence gets its best
        one, ahead of the sentences of other passages."""
        pool = sorted(candidates, key=lambda c: -c.score)
        chosen = [pool[0]]
        covered = list(pool[0].matches)
        said = [_said(pool[0].sentence)]
        for cand in pool[1:]:
            if len(chosen) >= self.max_sentences:
                break
            key = _said(cand.sentence)
            if any(key in s or s in key for s in said):  # the same fact again
                continue
            gain = sum(max(0.0, m - c) for m, c in zip(cand.matches, covered, strict=True))
            if cand.score >= NEAR_BEST * pool[0].score or gain / n_units >= MIN_GAIN:
                chosen.append(cand)
                said.append(key)
                covered = [max(m, c) for m, c in zip(cand.matches, covered, strict=True)]
        held = set(anchors)
        for rank in anchors:
            if any(c.hit_rank == rank for c in chosen):
                continue
            best = next((c for c in pool if c.hit_rank == rank), None)  # pool is best first
            if best is not None:
                chosen = [*(c for c in chosen if c.hit_rank in held), best,
                          *(c for c in chosen if c.hit_rank not in held)][: self.max_sentences]
        return chosen


def _said(sentence: str) -> str:
    """What a sentence says, for spotting repeats: its letters and digits, lower case."""
    return _NOT_WORD.sub("", sentence.lower())


def is_question(sentence: str) -> bool:
    """A question (an FAQ's, most often): it ends with a question mark or has a "Q:" label."""
    return bool(_QUESTION_END.search(sentence) or _QUESTION_LABEL.match(sentence))


def anchors(question: str, evidence: Sequence[Hit]) -> list[int]:
    """Ranks of the passages an answer must quote when it can: the best one, then those whose
    name the question holds."""
    asked = _name_key(question)
    named = [rank for rank, hit in enumerate(evidence)
             if rank and any(name in asked for name in _names(hit))]
    return [0, *named]


def _names(hit: Hit) -> set[str]:
    """What a passage is called: its title (a file name without its suffix), first heading,
    and first line when that is short (a title line)."""
    found = []
    if hit.title:
        path = PurePath(hit.title)
        found.append(path.stem if path.suffix.lower() in _FILE_SUFFIXES else hit.title)
    if hit.heading_path:
        found.append(hit.heading_path[0])
    line = hit.text.lstrip().split("\n", 1)[0]
    if len(line) <= MAX_TITLE_LINE:
        found.append(line)
    keys = {_name_key(name) for name in found}
    return {k.strip() if has_cjk(k) else k for k in keys
            if len(k.strip()) >= (2 if has_cjk(k) else MIN_NAME)}


def _name_key(text: str) -> str:
    """Lower-case words joined by single spaces, padded so that names match whole words
    (Chinese names, written without spaces, are matched unpadded)."""
    return " " + " ".join(_WORD.findall(text.lower())) + " "


def is_fragment(sentence: str) -> bool:
    """A piece that is not a whole sentence: it starts in lower case or with closing or inner
    punctuation, closes a parenthesis or bracket it did not open (it began inside one), or
    leaves a code span open. One left open is a typo in a whole sentence ("X (born 1969, Texas
    is ..."): sentences are never split inside parentheses (``split_sentences``)."""
    if _FRAGMENT_START.match(sentence):
        return True
    pairs = (("(", ")"), ("（", "）"), ("[", "]"), ("「", "」"), ("《", "》"))
    return sentence.count("`") % 2 == 1 or any(
        sentence.count(a) < sentence.count(b) for a, b in pairs)
