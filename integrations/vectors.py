"""Text vectors from a GGUF embedding model through llama.cpp, without Chroma.

One text per call with a small context is what runs fast on a CPU (llama-cpp-python's batched
`embed(list)` is about 10x slower), so texts are embedded one at a time under the model's lock,
mean-pooled by the model and L2-normalised here. Chroma's embedding function
(`integrations.embeddings`) and callers that need only vectors (risk signals) both use `embed_texts`;
the latter never import chromadb.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from integrations.llama import Loaded, load
from integrations.llm import LLMError


def _load(path: Path, n_ctx: int, n_threads: int = 0) -> Loaded:
    try:
        return load(path, n_ctx=n_ctx, n_threads=n_threads, n_batch=n_ctx, embedding=True)
    except FileNotFoundError:
        raise LLMError(f"Embedding model {path} does not exist. Put the GGUF file there, set "
                       "RETAIN_EMBEDDING__MODEL_PATH, or run `retain models pull`.") from None


def embed_texts(model_path: str, n_ctx: int, n_threads: int, texts: Sequence[str]) -> list[np.ndarray]:
    """Embed each text: mean pooled, L2-normalised float32 vectors."""
    model = _load(Path(model_path), n_ctx, n_threads)
    llama, lock = model.llama, model.lock
    out: list[np.ndarray] = []
    with lock:
        for text in texts:
            vec = np.asarray(llama.embed(text, normalize=False, truncate=True), dtype=np.float32)
            if vec.ndim == 2:  # per-token vectors: mean-pool them
                vec = vec.mean(axis=0)
            norm = float(np.linalg.norm(vec)) or 1.0
            out.append((vec / norm).astype(np.float32))
    return out
