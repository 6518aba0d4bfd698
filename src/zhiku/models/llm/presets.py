"""Provider presets: base URL and model names only (keys, prices and windows are the user's);
the ``*-rerank`` presets are rerankers (kind ``rerank``), the ``*-embedding`` presets
OpenAI-compatible embedding servers (kind ``embedding``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Preset:
    """Where a known provider serves the OpenAI protocol, and models it is known to offer."""

    name: str
    title: str
    base_url: str
    models: tuple[str, ...]
    api_key_env: str | None = None  # the conventional variable, suggested by ``models add``
    rerank_protocol: Literal["tei", "documents"] | None = None  # set: a reranker (kind rerank)
    embedding: bool = False  # an OpenAI-compatible /embeddings server (kind embedding)

    @property
    def kind(self) -> Literal["openai", "rerank", "embedding"]:
        """The kind of provider the preset makes."""
        if self.rerank_protocol is not None:
            return "rerank"
        return "embedding" if self.embedding else "openai"

    @property
    def needs_key(self) -> bool:
        """Whether the service asks for an API key (local servers usually do not)."""
        return self.api_key_env is not None


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("deepseek", "DeepSeek", "https://api.deepseek.com/v1",
               ("deepseek-chat", "deepseek-reasoner"), "DEEPSEEK_API_KEY"),
        Preset("qwen", "Qwen (DashScope compatible mode)",
               "https://dashscope.aliyuncs.com/compatible-mode/v1",
               ("qwen-plus", "qwen-max", "qwen-turbo", "qwen3-235b-a22b", "qwen3-32b"),
               "DASHSCOPE_API_KEY"),
        Preset("doubao", "Doubao (Volcengine Ark)", "https://ark.cn-beijing.volces.com/api/v3",
               ("doubao-1-5-pro-32k-250115", "doubao-1-5-lite-32k-250115"), "ARK_API_KEY"),
        Preset("moonshot", "Moonshot / Kimi", "https://api.moonshot.cn/v1",
               ("moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k", "kimi-k2-0711-preview"),
               "MOONSHOT_API_KEY"),
        Preset("zhipu", "Zhipu GLM", "https://open.bigmodel.cn/api/paas/v4",
               ("glm-4.5", "glm-4-plus", "glm-4-air", "glm-4-flash"), "ZHIPUAI_API_KEY"),
        Preset("siliconflow", "SiliconFlow", "https://api.siliconflow.cn/v1",
               ("deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1", "Qwen/Qwen2.5-72B-Instruct",
                "Qwen/Qwen3-32B"), "SILICONFLOW_API_KEY"),
        Preset("openai", "OpenAI", "https://api.openai.com/v1",
               ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"), "OPENAI_API_KEY"),
        Preset("ollama", "Ollama", "http://127.0.0.1:11434/v1",
               ("qwen2.5:7b", "qwen3:8b", "llama3.1:8b")),
        Preset("vllm", "vLLM", "http://127.0.0.1:8000/v1", ("Qwen/Qwen2.5-7B-Instruct",)),
        Preset("llamacpp", "llama.cpp server", "http://127.0.0.1:8080/v1", ("local",)),
        Preset("qwen-embedding", "Qwen embeddings (DashScope compatible mode)",
               "https://dashscope.aliyuncs.com/compatible-mode/v1",
               ("text-embedding-v3", "text-embedding-v4"), "DASHSCOPE_API_KEY", embedding=True),
        Preset("doubao-embedding", "Doubao embeddings (Volcengine Ark)",
               "https://ark.cn-beijing.volces.com/api/v3",
               ("doubao-embedding-text-240715",), "ARK_API_KEY", embedding=True),
        Preset("zhipu-embedding", "Zhipu GLM embeddings", "https://open.bigmodel.cn/api/paas/v4",
               ("embedding-3",), "ZHIPUAI_API_KEY", embedding=True),
        Preset("siliconflow-embedding", "SiliconFlow embeddings", "https://api.siliconflow.cn/v1",
               ("BAAI/bge-m3", "netease-youdao/bce-embedding-base_v1"), "SILICONFLOW_API_KEY",
               embedding=True),
        Preset("openai-embedding", "OpenAI embeddings", "https://api.openai.com/v1",
               ("text-embedding-3-small", "text-embedding-3-large"), "OPENAI_API_KEY",
               embedding=True),
        Preset("ollama-embedding", "Ollama embeddings", "http://127.0.0.1:11434/v1",
               ("bge-m3", "nomic-embed-text"), embedding=True),
        Preset("vllm-embedding", "vLLM embeddings", "http://127.0.0.1:8000/v1",
               ("BAAI/bge-m3",), embedding=True),
        Preset("llamacpp-embedding", "llama.cpp server embeddings", "http://127.0.0.1:8080/v1",
               ("local",), embedding=True),
        Preset("jina-rerank", "Jina reranker", "https://api.jina.ai/v1",
               ("jina-reranker-v2-base-multilingual",), "JINA_API_KEY", "documents"),
        Preset("siliconflow-rerank", "SiliconFlow reranker", "https://api.siliconflow.cn/v1",
               ("BAAI/bge-reranker-v2-m3",), "SILICONFLOW_API_KEY", "documents"),
        Preset("vllm-rerank", "vLLM reranker", "http://127.0.0.1:8000/v1",
               ("BAAI/bge-reranker-v2-m3",), None, "documents"),
        Preset("tei-rerank", "text-embeddings-inference reranker", "http://127.0.0.1:8080",
               ("bge-reranker",), None, "tei"),
    )
}
