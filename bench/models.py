"""Benchmark models: GGUF files with random weights and the exact shapes of Qwen2.5-0.5B/1.5B/3B-Instruct.

Speed on a CPU depends on a model's shape, not its weights, so their prefill and generation timings
are real. Weights are Q8_0 blocks written directly (random int8, a scale that keeps activations
sane); tokenizer fields are copied from `../shared/models/ggml-vocab-qwen2.gguf`. Written to a
temporary folder, never committed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

SHAPES = {  # hidden, layers, heads, kv heads, head dim, ffn (tied embeddings, vocab 151,936)
    "qwen2.5-0.5b": (896, 24, 14, 2, 64, 4864),
    "qwen2.5-1.5b": (1536, 28, 12, 2, 128, 8960),
    "qwen2.5-3b": (2048, 36, 16, 2, 128, 11008),
}
VOCAB = 151936
MODELS = Path(os.environ.get("RETAIN_MODELS_DIR", Path(__file__).resolve().parents[2] / "shared" / "models"))


def _q8(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Q8_0 bytes for a (rows, cols) weight: per 32 values an f16 scale and 32 int8."""
    blocks = rows * cols // 32
    scale = np.float16(1.0 / (127 * np.sqrt(cols) / 4))
    out = np.empty((blocks, 34), dtype=np.uint8)
    out[:, :2] = np.frombuffer(np.array([scale], dtype=np.float16).tobytes(), dtype=np.uint8)
    out[:, 2:] = rng.integers(-127, 128, size=(blocks, 32), dtype=np.int8).view(np.uint8)
    return out.reshape(rows, cols // 32 * 34)


def write(name: str, folder: Path, seed: int = 0) -> Path:
    """Write one benchmark model; returns its path."""
    import gguf

    hidden, layers, heads, kv, head_dim, ffn = SHAPES[name]
    path = folder / f"{name}-random-q8_0.gguf"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    vocab = gguf.GGUFReader(str(MODELS / "ggml-vocab-qwen2.gguf"))
    w = gguf.GGUFWriter(str(path), "qwen2")
    w.add_name(f"{name} (random weights, benchmark only)")
    w.add_context_length(32768)
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_rope_freq_base(1_000_000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    for field in vocab.fields.values():
        if field.name.startswith("tokenizer."):
            _copy_field(w, field, gguf)
    q8 = gguf.GGMLQuantizationType.Q8_0
    ones = np.ones(hidden, dtype=np.float32)
    w.add_tensor("token_embd.weight", _q8(VOCAB, hidden, rng), raw_dtype=q8)
    w.add_tensor("output_norm.weight", ones)
    for i in range(layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", ones)
        w.add_tensor(p + "ffn_norm.weight", ones)
        for t, (r, c) in {"attn_q": (heads * head_dim, hidden), "attn_k": (kv * head_dim, hidden),
                          "attn_v": (kv * head_dim, hidden), "attn_output": (hidden, heads * head_dim),
                          "ffn_gate": (ffn, hidden), "ffn_up": (ffn, hidden), "ffn_down": (hidden, ffn)}.items():
            w.add_tensor(p + t + ".weight", _q8(r, c, rng), raw_dtype=q8)
        for t, n in {"attn_q": heads * head_dim, "attn_k": kv * head_dim, "attn_v": kv * head_dim}.items():
            w.add_tensor(p + t + ".bias", np.zeros(n, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _copy_field(w: Any, field: Any, gguf: Any) -> None:
    t = field.types[0]
    if t == gguf.GGUFValueType.ARRAY:
        sub = field.types[-1]
        if sub == gguf.GGUFValueType.STRING:
            vals = [bytes(field.parts[i]).decode("utf-8", errors="replace") for i in field.data]
        else:
            vals = [field.parts[i].tolist()[0] for i in field.data]
        w.add_array(field.name, vals)
    elif t == gguf.GGUFValueType.STRING:
        w.add_string(field.name, bytes(field.parts[field.data[0]]).decode("utf-8", errors="replace"))
    else:
        w.add_key_value(field.name, field.parts[field.data[0]].tolist()[0], t)


def speed(path: Path, prompt_tokens: int = 512, gen_tokens: int = 32, threads: int = 0,
          n_batch: int = 512, flash_attn: bool = False) -> dict[str, float]:
    """Measured prefill and generation tokens/s (llama.cpp, exact token counts, no early stop)."""
    from llama_cpp import Llama

    threads = threads or os.cpu_count() or 1
    llm = Llama(model_path=str(path), n_ctx=prompt_tokens + gen_tokens + 16, n_threads=threads,
                n_threads_batch=threads, n_batch=n_batch, flash_attn=flash_attn, verbose=False)
    toks = [int(t) for t in np.random.default_rng(1).integers(1000, 100000, prompt_tokens)]
    t = time.perf_counter()
    llm.eval(toks)
    prefill = prompt_tokens / (time.perf_counter() - t)
    t = time.perf_counter()
    for k in range(gen_tokens):  # one token per step, as generation does (the token id does not change speed)
        llm.eval([1000 + k])
    gen = gen_tokens / (time.perf_counter() - t)
    size = path.stat().st_size
    del llm
    return {"prefill_tps": round(prefill, 1), "gen_tps": round(gen, 2), "size_gb": round(size / 1e9, 3)}


def bandwidth_gbs() -> float:
    """Memory bandwidth the machine sustains for a large copy (read + write), GB/s."""
    a = np.ones(256 * 1024 * 1024 // 8)  # 256 MB
    b = np.empty_like(a)
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        np.copyto(b, a)
        best = max(best, 2 * a.nbytes / (time.perf_counter() - t) / 1e9)
    return round(best, 2)
