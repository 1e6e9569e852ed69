"""Embeddings through llama.cpp as a Chroma embedding function.

The vectors come from `integrations.vectors`; the function is registered with Chroma so a reopened
collection rebuilds it offline.
"""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from integrations.vectors import embed_texts


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
        out: Embeddings = list(embed_texts(self.model_path, self.n_ctx, self.n_threads, input))
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
