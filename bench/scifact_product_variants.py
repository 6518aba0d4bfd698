"""Search-side variants for documents cut into several chunks, scored on the SciFact knowledge
base that bench/scifact_product.py built (run it first). The product's candidate lists (BM25
over the rarest query terms, MiniLM vectors, 50 each) are taken once per claim through the
Python API; each variant re-ranks the same lists, for the train claims (choose here) and the
test claims (report only):

- chunks: the product's order (RRF k=10, exact terms first), top 10 chunks, documents deduped
  (what ``zhiku search --top-k 10`` gives bench/scifact_product.py);
- one-per-document: the same order, the first 10 distinct documents;
- credit-SHARE: a document's best chunk gains SHARE of its other candidate chunks' fused scores,
  then as one-per-document;
- weighted-0.4: the product's order with weighted fusion (vector weight 0.4), the best fusion
  on train for bench/scifact.py's one-chunk-per-abstract knowledge base (``--tune``);
- document-fusion: each retriever's list reduced to documents (a document at its best chunk's
  rank), fused by RRF over documents.

    .venv/bin/python bench/scifact_product_variants.py
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from _common import OUT, ndcg_at_k, scifact_qrels, scifact_queries, write_result
from zhiku.core.settings import Settings
from zhiku.retrieval.fusion import exact_first, fuse
from zhiku.retrieval.search import specific_terms
from zhiku.service import Zhiku
from zhiku.store.reader import Reader
from zhiku.text.tokenize import query_terms

Ranked = list[tuple[int, float]]
Lists = tuple[Ranked, Ranked, list[int]]
POOL = 50


def candidate_lists(zk: Zhiku, claims: dict[str, str]) -> dict[str, Lists]:
    """Keyword list, vector list and exact-term hits per claim, as the searcher makes them."""
    kb = zk.kb("scifact")
    who = Reader.everything()
    out: dict[str, Lists] = {}
    for qid, text in claims.items():
        terms = query_terms(text)
        stats = zk.searcher._doc_freqs.get(terms)
        keyword = zk.store.keyword_search([kb.id], specific_terms(terms, stats[0]), POOL, None,
                                          who)
        vector, _ = zk.searcher._vector([kb], text, POOL, None, who)
        out[qid] = (keyword, vector, zk.searcher._exact_hits(terms, stats, keyword))
    return out


def fused(lists: Lists, method: str = "rrf", weight: float = 0.5) -> Ranked:
    keyword, vector, exact = lists
    order = fuse([keyword, vector], [1 - weight, weight], method, 10)
    return exact_first(order, exact, {c for c, _ in keyword})


def credited(order: Ranked, doc_of: dict[int, int], share: float) -> Ranked:
    total: dict[int, float] = {}
    for cid, score in order:
        total[doc_of[cid]] = total.get(doc_of[cid], 0.0) + score
    seen: set[int] = set()
    out = []
    for cid, score in order:
        doc = doc_of[cid]
        out.append((cid, score + share * (total[doc] - score) if doc not in seen else score))
        seen.add(doc)
    return sorted(out, key=lambda kv: -kv[1])


def documents(order: Sequence[tuple[int, float]], doc_of: dict[int, int]) -> list[int]:
    return list(dict.fromkeys(doc_of[c] for c, _ in order))


def document_fusion(lists: Lists, doc_of: dict[int, int]) -> list[int]:
    keyword, vector, exact = lists
    docs = [[(d, 0.0) for d in documents(ranked, doc_of)] for ranked in (keyword, vector)]
    kw_docs = {d for d, _ in docs[0]}
    order = fuse(docs, [0.5, 0.5], "rrf", 10)
    return [d for d, _ in exact_first(order, [doc_of[c] for c in exact], kw_docs)]


def credit_variant(lists: Lists, doc_of: dict[int, int], share: float) -> list[int]:
    return documents(credited(fused(lists), doc_of, share), doc_of)


def main() -> None:
    home = OUT / "scifact-product"
    zk = Zhiku(Settings(home=home))
    kb = zk.kb("scifact")
    docs = zk.store.list_documents(kb.id)
    stem = {d.id: Path(d.source).stem for d in docs}
    doc_of = {c.id: d.id for d in docs for c in zk.store.list_chunks(d.id)}
    queries = scifact_queries()
    splits = {s: scifact_qrels(s) for s in ("train", "test")}
    lists = candidate_lists(zk, {q: queries[q] for qrels in splits.values() for q in qrels})
    variants: dict[str, Callable[[Lists], list[int]]] = {
        "chunks": lambda ls: documents(fused(ls)[:10], doc_of),
        "one-per-document": lambda ls: documents(fused(ls), doc_of),
        "document-fusion": lambda ls: document_fusion(ls, doc_of),
        "weighted-0.4": lambda ls: documents(fused(ls, "weighted", 0.4)[:10], doc_of),
        "weighted-0.4-one-per-document": lambda ls: documents(fused(ls, "weighted", 0.4),
                                                              doc_of),
    }
    for share in (0.1, 0.25, 0.5, 1.0):
        variants[f"credit-{share}"] = partial(credit_variant, doc_of=doc_of, share=share)
    result: dict[str, object] = {"chunks": len(doc_of), "documents": len(set(doc_of.values()))}
    for name, ranking in variants.items():
        result[name] = {
            split: round(statistics.fmean(
                ndcg_at_k([stem[d] for d in ranking(lists[q])[:10]], rel, 10)
                for q, rel in qrels.items()), 4)
            for split, qrels in splits.items()}
        print(name, result[name])
    write_result("scifact_product_variants", result)


if __name__ == "__main__":
    main()
