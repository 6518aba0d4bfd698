"""Ranking metrics over one query: a ranked list of keys and graded qrels {key: relevance}.

Conventions follow trec_eval/pytrec_eval (what BEIR reports): relevance ≤ 0 is not relevant,
nDCG uses linear gain and log2(rank + 1) discount, and the ideal DCG comes from the qrels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def _relevant(qrels: Mapping[str, int]) -> set[str]:
    return {k for k, v in qrels.items() if v > 0}


def hit_rate(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """1.0 when any relevant key is in the top ``k``."""
    rel = _relevant(qrels)
    return 1.0 if any(key in rel for key in ranked[:k]) else 0.0


def recall(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Share of the relevant keys found in the top ``k`` (0 when nothing is relevant)."""
    rel = _relevant(qrels)
    if not rel:
        return 0.0
    return len(rel.intersection(ranked[:k])) / len(rel)


def precision(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Share of the top ``k`` positions holding a relevant key (divided by ``k``, as trec_eval)."""
    rel = _relevant(qrels)
    return sum(1 for key in ranked[:k] if key in rel) / k if k > 0 else 0.0


def mrr(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Reciprocal rank of the first relevant key within the top ``k``."""
    rel = _relevant(qrels)
    for i, key in enumerate(ranked[:k]):
        if key in rel:
            return 1.0 / (i + 1)
    return 0.0


def ndcg(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Normalised discounted cumulative gain at ``k`` with graded relevance."""
    dcg = 0.0
    for i, key in enumerate(ranked[:k]):
        gain = qrels.get(key, 0)
        if gain > 0:
            dcg += gain / math.log2(i + 2)
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0
