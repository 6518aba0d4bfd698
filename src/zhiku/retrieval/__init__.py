"""Retrieval: keyword (BM25), vector, fusion, filters, relevance, and the hybrid searcher."""
