"""Data-only defaults: YAML settings, scorecard, CRM column mappings, knowledge base; read through `load`."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent


@cache
def _read(name: str) -> str:
    return (CONFIG_DIR / f"{name}.yaml").read_text()


def load(name: str) -> Any:
    """configs/<name>.yaml, parsed (a fresh copy each call, so callers may change it)."""
    return yaml.safe_load(_read(name))
