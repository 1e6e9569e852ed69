"""The one place tests find the workplace's model files: RETAIN_MODELS_DIR, else ../shared/models."""

import os
from pathlib import Path

MODELS = Path(os.environ.get("RETAIN_MODELS_DIR") or Path(__file__).resolve().parents[2] / "shared" / "models")
