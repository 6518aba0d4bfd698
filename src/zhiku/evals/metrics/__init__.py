"""Pure metric functions: retrieval, answers, citations, refusals, and aggregation."""

from zhiku.evals.metrics.answers import (
    contains_answer,
    exact_match,
    normalize_answer,
    token_f1,
    token_recall,
    tokens,
)
from zhiku.evals.metrics.citations import citation_precision, citation_recall
from zhiku.evals.metrics.refusal import refusal_correct, refusal_rates
from zhiku.evals.metrics.retrieval import hit_rate, mrr, ndcg, precision, recall

__all__ = [
    "citation_precision",
    "citation_recall",
    "contains_answer",
    "exact_match",
    "hit_rate",
    "mrr",
    "ndcg",
    "normalize_answer",
    "precision",
    "recall",
    "refusal_correct",
    "refusal_rates",
    "token_f1",
    "token_recall",
    "tokens",
]
