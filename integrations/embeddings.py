"""Embeddings through llama.cpp, registered with Chroma so a reopened collection rebuilds it offline.

One text per call with a small context is what runs fast on a CPU (llama-cpp-python's batched
`embed(list)` is about 10x slower), so texts are embedded one at a time under the model's lock,
mean-pooled by the model and L2-normalised here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from integrations.llama import Loaded, load
from integrations.llm import LLMError


def _load(path: Path, n_ctx: int, n_threads: int = 0) -> Loaded:
    try:
        return load(path, n_ctx=n_ctx, n_threads=n_threads, n_batch=n_ctx, embedding=True)
    except FileNotFoundError:
        raise LLMError(f"Embedding model {path} does not exist. Put the GGUF file there, set "
                       "RETAIN_EMBEDDING__MODEL_PATH, or run `retain models pull`.") from None


@register_embedding_function
class LlamaCppEmbedding(EmbeddingFunction[Documents]):
    """A GGUF embedding model (e.g. all-MiniLM-L6-v2) as a Chroma embedding function."""

    def __init__(self, model_path: str, n_ctx: int = 256, n_threads: int = 1):
        """A model file and context; `n_threads` 0 means the CPUs this process may use (1: see EmbeddingSettings).

        The thread count is not part of the stored config (it is not a property of the vectors), so
        a collection reopens whatever the thread setting.
        """
        self.model_path = str(model_path)
        self.n_ctx = int(n_ctx)
        self.n_threads = int(n_threads)

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's signature
        """Embed each text: mean pooled, L2-normalised."""
        model = _load(Path(self.model_path), self.n_ctx, self.n_threads)
        llama, lock = model.llama, model.lock
        out: Embeddings = []
        with lock:
            for text in input:
                vec = np.asarray(llama.embed(text, normalize=False, truncate=True), dtype=np.float32)
                if vec.ndim == 2:  # per-token vectors: mean-pool them
                    vec = vec.mean(axis=0)
                norm = float(np.linalg.norm(vec)) or 1.0
                out.append((vec / norm).astype(np.float32))
        return out

    @staticmethod
    def name() -> str:
        """The name Chroma stores with a collection."""
        return "retain-llamacpp"

    def get_config(self) -> dict[str, Any]:
        """What Chroma needs to rebuild this function when the collection is reopened."""
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LlamaCppEmbedding:
        """Rebuild from a stored config."""
        return LlamaCppEmbedding(config["model_path"], config.get("n_ctx", 256))

    def default_space(self) -> str:  # type: ignore[override]
        """Normalised vectors: cosine distance."""
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        """Spaces that make sense for normalised vectors."""
        return ["cosine", "ip", "l2"]
