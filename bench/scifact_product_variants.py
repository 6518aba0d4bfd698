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
  rank), fused by RRF over documents (also with k=5 and 100 candidates each);
- document-weighted-W / document-z-W: the same document lists fused by weighted (min-max) or
  z-score fusion, vector weight W;
- lift-decay-W-A: weighted chunk fusion where each document's best chunk carries the
  document's best keyword and best vector evidence and its further chunks are discounted by
  A per place (a hit list that still holds several chunks of a document); ``rrf-lift-decay``
  does the same with RRF (k=10) scores;
- prf-B-M: dense pseudo-relevance feedback, the query vector plus B times the mean of the top
  M fused chunks' vectors, searched again, then one per document.

    .venv/bin/python bench/scifact_product_variants.py              # bench/out/scifact-product
    .venv/bin/python bench/scifact_product_variants.py --home DIR   # another build of it
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from _common import OUT, ndcg_at_k, scifact_qrels, scifact_queries, write_result
from zhiku.core.settings import Settings
from zhiku.retrieval.fusion import exact_first, fuse, rrf
from zhiku.retrieval.search import specific_terms
from zhiku.service import Zhiku
from zhiku.store.reader import Reader
from zhiku.text.tokenize import query_terms

Ranked = list[tuple[int, float]]
Lists = tuple[Ranked, Ranked, list[int], np.ndarray]
POOL = 100  # candidates taken per retriever; the product's 50 unless a variant says otherwise
DEPTH = 50


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
        vector, qvecs = zk.searcher._vector([kb], text, POOL, None, who)
        exact = zk.searcher._exact_hits(terms, stats, keyword[:DEPTH])
        out[qid] = (keyword, vector, exact, next(iter(qvecs.values())))
    return out


def fused(lists: Lists, method: str = "rrf", weight: float = 0.5) -> Ranked:
    keyword, vector, exact, _ = lists
    order = fuse([keyword[:DEPTH], vector[:DEPTH]], [1 - weight, weight], method, 10)
    return exact_first(order, exact, {c for c, _ in keyword[:DEPTH]})


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


def best_per_document(ranked: Ranked, doc_of: dict[int, int]) -> Ranked:
    """A retriever's list reduced to documents, each at its best chunk's place and score."""
    out: dict[int, float] = {}
    for cid, score in ranked:
        out.setdefault(doc_of[cid], score)
    return list(out.items())


def zscores(lists: Sequence[Ranked], weights: Sequence[float]) -> Ranked:
    """Convex combination of per-list z-scores; an item missing from a list gets its minimum."""
    items = {i for ranked in lists for i, _ in ranked}
    total = dict.fromkeys(items, 0.0)
    for ranked, weight in zip(lists, weights, strict=True):
        if not ranked:
            continue
        values = np.array([s for _, s in ranked])
        spread = float(values.std()) or 1.0
        z = {i: (s - float(values.mean())) / spread for i, s in ranked}
        low = min(z.values())
        for i in items:
            total[i] += weight * z.get(i, low)
    return sorted(total.items(), key=lambda kv: -kv[1])


def document_fusion(lists: Lists, doc_of: dict[int, int], method: str = "rrf",
                    weight: float = 0.5, k: int = 10, depth: int = DEPTH) -> list[int]:
    keyword, vector, exact, _ = lists
    docs = [best_per_document(ranked[:depth], doc_of) for ranked in (keyword, vector)]
    kw_docs = {d for d, _ in docs[0]}
    weights = [1 - weight, weight]
    order = zscores(docs, weights) if method == "z" else fuse(docs, weights, method, k)
    return [d for d, _ in exact_first(order, [doc_of[c] for c in exact], kw_docs)]


def minmax(ranked: Ranked) -> dict[int, float]:
    if not ranked:
        return {}
    low, high = min(s for _, s in ranked), max(s for _, s in ranked)
    return {i: (s - low) / (high - low) if high > low else 1.0 for i, s in ranked}


def lift_decay(lists: Lists, doc_of: dict[int, int], weight: float, decay: float,
               method: str = "weighted") -> list[int]:
    """Chunk scores; a document's best chunk gets the document's fused evidence (its best
    keyword and best vector chunk), its n-th further chunk ``decay ** n`` of its own score."""
    keyword, vector, exact, _ = lists
    keyword, vector = keyword[:DEPTH], vector[:DEPTH]
    weights = [1 - weight, weight]
    if method == "rrf":
        chunk = rrf([keyword, vector], weights, 10)
        doc = rrf([best_per_document(r, doc_of) for r in (keyword, vector)], weights, 10)
    else:
        norms = [minmax(keyword), minmax(vector)]
        chunk = {c: sum(w * n.get(c, 0.0) for w, n in zip(weights, norms, strict=True))
                 for c in set(norms[0]) | set(norms[1])}
        best: list[dict[int, float]] = [{}, {}]
        for side, n in enumerate(norms):
            for c, v in n.items():
                best[side][doc_of[c]] = max(best[side].get(doc_of[c], 0.0), v)
        doc = {d: sum(w * b.get(d, 0.0) for w, b in zip(weights, best, strict=True))
               for d in set(best[0]) | set(best[1])}
    places: dict[int, int] = {}
    scored: Ranked = []
    for c in sorted(chunk, key=lambda c: -chunk[c]):
        d = doc_of[c]
        n = places.get(d, 0)
        places[d] = n + 1
        scored.append((c, (doc[d] if n == 0 else chunk[c]) * decay ** n))
    scored.sort(key=lambda kv: -kv[1])
    return documents(exact_first(scored, exact, {c for c, _ in keyword})[:10], doc_of)


def dense_feedback(lists: Lists, doc_of: dict[int, int], matrix: tuple[np.ndarray, np.ndarray],
                   beta: float, m: int) -> list[int]:
    """Rocchio on the query vector with the top ``m`` fused chunks, then one per document."""
    keyword, _, exact, qvec = lists
    ids, vectors = matrix
    row = {int(c): i for i, c in enumerate(ids)}
    top = [c for c, _ in fused(lists)[:m]]
    q = qvec + beta * vectors[[row[c] for c in top]].mean(axis=0)
    scores = vectors @ (q / np.linalg.norm(q))
    nearest = np.argsort(-scores)[:DEPTH]
    again = [(int(ids[i]), float(scores[i])) for i in nearest]
    return documents(fused((keyword, again, exact, qvec)), doc_of)


def credit_variant(lists: Lists, doc_of: dict[int, int], share: float) -> list[int]:
    return documents(credited(fused(lists), doc_of, share), doc_of)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--home", type=Path, default=OUT / "scifact-product")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    zk = Zhiku(Settings(home=args.home))
    kb = zk.kb("scifact")
    docs = zk.store.list_documents(kb.id)
    stem = {d.id: Path(d.source).stem for d in docs}
    doc_of = {c.id: d.id for d in docs for c in zk.store.list_chunks(d.id)}
    queries = scifact_queries()
    splits = {s: scifact_qrels(s) for s in ("train", "test")}
    lists = candidate_lists(zk, {q: queries[q] for qrels in splits.values() for q in qrels})
    model = zk.searcher._embedder_for(kb.embedder).model_id
    matrix = zk.store.load_vectors(kb.id, model)
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
    variants["document-fusion-k5"] = partial(document_fusion, doc_of=doc_of, k=5)
    variants["document-fusion-k5-100"] = partial(document_fusion, doc_of=doc_of, k=5, depth=100)
    for w in (0.4, 0.5):
        for method in ("weighted", "z"):
            variants[f"document-{method}-{w}"] = partial(document_fusion, doc_of=doc_of,
                                                        method=method, weight=w)
        variants[f"document-weighted-{w}-100"] = partial(
            document_fusion, doc_of=doc_of, method="weighted", weight=w, depth=100)
        for decay in (0.5, 0.8):
            variants[f"lift-decay-{w}-{decay}"] = partial(lift_decay, doc_of=doc_of, weight=w,
                                                          decay=decay)
    variants["rrf-lift-decay-0.5"] = partial(lift_decay, doc_of=doc_of, weight=0.5, decay=0.5,
                                             method="rrf")
    for beta, m in ((0.5, 3), (0.5, 5)):
        variants[f"prf-{beta}-{m}"] = partial(dense_feedback, doc_of=doc_of, matrix=matrix,
                                             beta=beta, m=m)
    result: dict[str, object] = {"chunks": len(doc_of), "documents": len(set(doc_of.values()))}
    for name, ranking in variants.items():
        result[name] = {
            split: round(statistics.fmean(
                ndcg_at_k([stem[d] for d in ranking(lists[q])[:10]], rel, 10)
                for q, rel in qrels.items()), 4)
            for split, qrels in splits.items()}
        print(name, result[name])
    write_result(f"scifact_product_variants{args.tag}", result)


if __name__ == "__main__":
    main()
