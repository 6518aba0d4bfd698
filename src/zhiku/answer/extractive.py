"""The default answerer, with no LLM: the best sentences of the top hits, each one cited."""

from __future__ import annotations

from dataclasses import dataclass

from zhiku.answer.types import REFUSAL, Answer, Citation
from zhiku.retrieval.types import Hit
from zhiku.text.lang import detect_language
from zhiku.text.sentences import split_sentences
from zhiku.text.tokenize import analyze, query_terms


@dataclass(slots=True)
class _Candidate:
    score: float
    hit_rank: int
    position: int
    sentence: str


class ExtractiveAnswerer:
    """Picks up to ``max_sentences`` sentences that share the most query terms.

    Refuses (without inventing anything) when no hit reaches ``min_relevance``.
    """

    def __init__(self, min_relevance: float = 0.3, max_sentences: int = 3, max_hits: int = 3):
        self.min_relevance = min_relevance
        self.max_sentences = max_sentences
        self.max_hits = max_hits

    def answer(self, question: str, hits: list[Hit]) -> Answer:
        """Answer from the hits, or refuse."""
        lang = detect_language(question)
        evidence = [h for h in hits if h.relevance >= self.min_relevance][: self.max_hits]
        if not evidence:
            return Answer(REFUSAL[lang], refused=True, hits=hits)
        terms = set(query_terms(question))
        candidates: list[_Candidate] = []
        for rank, hit in enumerate(evidence):
            for pos, sentence in enumerate(split_sentences(hit.text)):
                overlap = len(terms & set(analyze(sentence)))
                if overlap:
                    score = overlap / (1 + 0.15 * rank) + 0.01 * hit.relevance
                    candidates.append(_Candidate(score, rank, pos, sentence))
        if not candidates:  # relevant by meaning only: quote the start of the best passage
            first = split_sentences(evidence[0].text)[:1] or [evidence[0].text[:300]]
            candidates = [_Candidate(0.0, 0, 0, first[0])]
        chosen = sorted(candidates, key=lambda c: -c.score)[: self.max_sentences]
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
