"""llama.cpp models loaded once per process: one `Llama` per file and shape, each with its own lock.

llama.cpp contexts are not thread-safe, so the chat model and the embedder both go through the
lock of the model they use.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Callable, Iterator
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
            with _without_amx():
                _LOADED[key] = Loaded(Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads,
                                            n_threads_batch=threads, n_batch=n_batch, verbose=False, **extra))
        return _LOADED[key]


def prompt_cache(m: Loaded, capacity_bytes: int) -> None:
    """Keep the model's states after each call in RAM (llama-cpp-python's LlamaRAMCache), once per model.

    A new prompt then starts from the saved state that shares its longest prefix: the router's, the
    composer's and the needs extractor's system prompts each stay prefilled even when calls alternate
    between them, so a call reads only its new tokens. 0 bytes: no cache (the last prompt is still reused).
    """
    if capacity_bytes <= 0 or m.llama.cache is not None:
        return
    from llama_cpp.llama_cache import LlamaRAMCache

    m.llama.set_cache(LlamaRAMCache(capacity_bytes=capacity_bytes))


def cached_prefixes(m: Loaded) -> list[tuple[int, ...]]:
    """The token sequences whose states the prompt cache holds (the caller holds the model's lock)."""
    cache = m.llama.cache
    return list(getattr(cache, "cache_state", {}).keys()) if cache is not None else []


class PromptSeen:
    """The model as its chat handler sees it, keeping the exact prompt tokens the handler sends.

    llama-cpp-python's chat completion formats the messages with the model's chat template, tokenizes
    them and calls `create_completion(prompt=tokens)`; this proxy runs the model's own
    `create_chat_completion` with itself as the model, so the tokens pass through it on the way: the
    prompt's size by the model's own tokenizer, not an estimate.
    """

    def __init__(self, llama: Any):
        self._llama = llama
        self.prompt: list[int] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llama, name)

    def create_chat_completion(self, **kwargs: Any) -> Any:
        """The model's chat completion, run through this proxy."""
        return type(self._llama).create_chat_completion(self, **kwargs)

    def create_completion(self, prompt: Any, **kwargs: Any) -> Any:
        """Note the prompt tokens, then complete on the real model."""
        self.prompt = list(prompt) if isinstance(prompt, list) else None
        return self._llama.create_completion(prompt=prompt, **kwargs)


@atexit.register
def _close_all() -> None:
    """Free the models at exit, before the interpreter tears llama_cpp down.

    Left to `Llama.__del__` at interpreter shutdown, freeing finds llama_cpp's C functions already
    gone and prints "TypeError: 'NoneType' object is not callable" tracebacks after every command.
    """
    with _GUARD:
        for m in _LOADED.values():
            with m.lock:
                m.llama.close()
        _LOADED.clear()


def _amx_free_params() -> Callable[[], Any] | None:
    """llama.cpp's model-params factory without extra buffer types, or None where AMX is not built in."""
    import llama_cpp.llama_cpp as ll

    if b"AMX_INT8 = 1" not in (ll.llama_print_system_info() or b""):
        return None
    default = ll.llama_model_default_params

    def params() -> Any:
        p = default()
        p.use_extra_bufts = False
        return p

    return params


def without_amx_everywhere() -> bool:
    """For a process that only serves a model (`retain models serve`): every load skips AMX (True if it applies)."""
    import llama_cpp.llama_cpp as ll

    params = _amx_free_params()
    if params is not None:
        ll.llama_model_default_params = params
    return params is not None


@contextlib.contextmanager
def _without_amx() -> Iterator[None]:
    """On a llama.cpp built for Intel AMX, load models without its extra buffer types.

    llama.cpp's AMX matrix multiply crashes the process (SIGSEGV in ggml_backend_amx_mul_mat) on the
    MiniLM embedder, found on a Xeon with AMX_INT8 where a native build turns AMX on (and in
    llama_cpp.server on SmolLM2's first completion). Without the extra buffer types (AMX, weight
    repacking) the same build runs the plain AVX-512 kernels: same vectors. llama-cpp-python has no
    parameter for it, so `use_extra_bufts` is set on the model params it asks llama.cpp for, for
    this load only (the caller holds the load lock).
    """
    import llama_cpp.llama_cpp as ll

    params = _amx_free_params()
    if params is None:
        yield
        return
    default = ll.llama_model_default_params
    ll.llama_model_default_params = params
    try:
        yield
    finally:
        ll.llama_model_default_params = default
