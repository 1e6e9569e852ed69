"""Data-only defaults: YAML settings, scorecard, CRM column mappings, knowledge base."""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
