"""llama.cpp models loaded once per process: one `Llama` per file and shape, each with its own lock.

llama.cpp contexts are not thread-safe, so the chat model and the embedder both go through the
lock of the model they use.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from core import cpus


class Loaded:
    """One llama.cpp model in this process, with the lock that serialises its use."""

    def __init__(self, llama: Any):
        self.llama = llama
        self.lock = threading.Lock()


_LOADED: dict[tuple[Any, ...], Loaded] = {}
_GUARD = threading.Lock()


def load(path: Path, *, n_ctx: int, n_threads: int = 0, n_batch: int = 512, embedding: bool = False) -> Loaded:
    """The process-wide model for this file and shape, loaded on first use (FileNotFoundError if absent)."""
    if not path.is_file():
        raise FileNotFoundError(path)
    threads = cpus.threads(n_threads)
    key = (str(path.resolve()), n_ctx, threads, n_batch, embedding)
    with _GUARD:
        if key not in _LOADED:
            from llama_cpp import Llama

            extra: dict[str, Any] = {"embedding": True, "n_ubatch": n_batch} if embedding else {}
            _LOADED[key] = Loaded(Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads,
                                        n_threads_batch=threads, n_batch=n_batch, verbose=False, **extra))
        return _LOADED[key]
