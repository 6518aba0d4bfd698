"""A Chinese query uses vectors only when the knowledge base's embedder says it is
multilingual (``Embedder.multilingual``); an English-only model's neighbours are noise."""

from __future__ import annotations

from zhiku.ingest.pipeline import SourceItem
from zhiku.models.embedders.hashing import HashingEmbedder
from zhiku.models.embedders.minilm import MiniLMEmbedder
from zhiku.models.embedders.use_multilingual import USEEmbedder
from zhiku.retrieval.search import HybridSearcher, SearchParams
from zhiku.service import Zhiku


class MultilingualHashing(HashingEmbedder):
    multilingual = True


def test_the_embedders_say_whether_they_are_multilingual() -> None:
    assert USEEmbedder.multilingual
    assert not MiniLMEmbedder.multilingual and not HashingEmbedder().multilingual


def test_a_chinese_query_uses_vectors_only_with_a_multilingual_embedder(zk: Zhiku) -> None:
    zk.create_kb("zh", embedder="hashing")
    zk.ingest_items("zh", [SourceItem("a.md", data="报销流程需要发票和审批单。".encode())])
    plain = zk.search("zh", "报销流程需要什么")
    assert plain and plain[0].scores["vector"] is None  # keyword side only
    same_vectors = MultilingualHashing()  # the same model id: it reads the stored vectors
    searcher = HybridSearcher(zk.store, zk.vectors, lambda name: same_vectors)
    (hit,) = searcher.search([zk.kb("zh")], "报销流程需要什么", SearchParams(top_k=3))
    assert hit.scores["vector"] is not None and hit.scores["vector"] > 0
