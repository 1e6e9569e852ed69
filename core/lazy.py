"""Modules imported on first use: a command that never touches them never pays for importing them.

`lazy("pandas")` returns a stand-in whose first attribute read imports the module. The stand-in is
not put in `sys.modules` (as `importlib.util.LazyLoader` would): libraries that look there to see
whether pandas is loaded (rapidfuzz, pyarrow) would otherwise load it at once. Type checkers see the
real module through `if TYPE_CHECKING: import pandas as pd`, so the usual spelling stays typed.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from types import ModuleType
from typing import Any

TRACE = "RETAIN_TRACE_LAZY"  # set to a module name to print the stack that first imports it (finding the caller)


class LazyModule:
    """A module imported when one of its attributes is first read."""

    def __init__(self, name: str) -> None:  # noqa: D107 - the module's import name
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            if os.environ.get(TRACE) == self._name and self._name not in sys.modules:
                traceback.print_stack(limit=12)
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{' (loaded)' if self._module else ''}>"


def lazy(name: str) -> Any:
    """A stand-in for the module `name` that imports it on first use."""
    return LazyModule(name)


def loaded(name: str) -> bool:
    """Whether a module has been imported (by anyone)."""
    return name in sys.modules
