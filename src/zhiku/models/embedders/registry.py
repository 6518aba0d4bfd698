"""Build an embedder from its name in settings or a knowledge base's configuration."""

from __future__ import annotations

import threading

from zhiku.core.errors import InvalidInput
from zhiku.core.settings import Settings
from zhiku.models.embedders.base import Embedder

EMBEDDERS = ("minilm", "use-multilingual", "hashing", "openai")


def make_embedder(name: str, settings: Settings) -> Embedder:
    """``minilm`` (bundled), ``use-multilingual``, ``hashing[-DIM]`` or ``openai[:MODEL]``."""
    if name == "minilm":
        from zhiku.models.embedders.minilm import MiniLMEmbedder

        return MiniLMEmbedder(max_tokens=settings.embed_max_tokens, threads=settings.embed_threads)
    if name == "use-multilingual":
        from zhiku.models.embedders.use_multilingual import USEEmbedder

        return USEEmbedder()
    if name == "hashing" or name.startswith("hashing-"):
        from zhiku.models.embedders.hashing import HashingEmbedder

        dim = int(name.split("-", 1)[1]) if "-" in name else 256
        return HashingEmbedder(dim)
    if name == "openai" or name.startswith("openai:"):
        from zhiku.models.embedders.openai_compat import OpenAIEmbedder

        model = name.split(":", 1)[1] if ":" in name else settings.openai_embed_model
        return OpenAIEmbedder.from_settings(settings, model)
    raise InvalidInput(f"unknown embedder '{name}'", known=list(EMBEDDERS))


class Embedders:
    """Embedders by name, each made once and then shared: one per process, whatever the number
    of workspaces (a local model holds ~100 MB and its own inference threads)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._made: dict[str, Embedder] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Embedder:
        """The embedder called ``name``, made on first use."""
        with self._lock:
            if name not in self._made:
                self._made[name] = make_embedder(name, self._settings)
            return self._made[name]
