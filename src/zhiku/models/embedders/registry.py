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

        return MiniLMEmbedder(max_tokens=settings.embed_max_tokens, threads=settings.embed_threads,
                              cache_dir=settings.model_cache_dir)
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
        self._loading: dict[str, threading.Thread] = {}
        self._failed: dict[str, BaseException] = {}
        self._lock = threading.Lock()

    def preload(self, name: str) -> None:
        """Start making ``name`` in a background thread, so that loading a model overlaps the
        caller's other start-up work; ``get`` waits for it (and raises what it raised). The
        thread is not a daemon: a process that never needed the model still waits for the load
        to end before exiting, as a native library torn down mid-load would abort it."""
        with self._lock:
            if name in self._made or name in self._loading:
                return
            thread = threading.Thread(
                target=self._load, args=(name,), name=f"zhiku-load-{name}"
            )
            self._loading[name] = thread
        thread.start()

    def _load(self, name: str) -> None:
        try:
            made = make_embedder(name, self._settings)
        except BaseException as exc:  # handed to the caller of get(), which reports it
            with self._lock:
                self._failed[name] = exc
        else:
            with self._lock:
                self._made[name] = made

    def get(self, name: str) -> Embedder:
        """The embedder called ``name``, made on first use (or by ``preload``)."""
        with self._lock:
            loading = self._loading.get(name)
        if loading is not None:
            loading.join()
            with self._lock:
                self._loading.pop(name, None)
                failed = self._failed.pop(name, None)
            if failed is not None:
                raise failed
        with self._lock:
            if name not in self._made:
                self._made[name] = make_embedder(name, self._settings)
            return self._made[name]
