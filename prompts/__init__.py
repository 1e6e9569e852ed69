"""Prompt files, one per agent step, loaded by name (`prompts/<name>.md`).

Each prompt is static text: it goes first in the messages so llama.cpp reuses its KV cache across
calls; everything that varies (the question, the findings) follows it.
"""

from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).resolve().parent


@cache
def load(name: str) -> str:
    """The text of prompts/<name>.md."""
    return (PROMPT_DIR / f"{name}.md").read_text().strip()
