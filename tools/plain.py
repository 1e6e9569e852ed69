"""Plain JSON from numpy/pandas values: one place for what checkpoints, answers and tools return."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from core.lazy import lazy, loaded

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")


def scalar(v: Any) -> Any:
    """A numpy/pandas scalar as plain JSON: NaN and NaT become None, floats rounded to 4 places."""
    if loaded("pandas") and v is pd.NaT:  # no pandas loaded: no pandas value to clean
        return None
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) else round(float(v), 4)
    if isinstance(v, np.integer):
        return int(v)
    return v


T = TypeVar("T")


def plain(obj: T) -> T:
    """A JSON-clean deep copy of the same shape (numpy numbers become Python numbers, anything else its text).

    Meant for JSON-shaped values (dicts, lists, strings, numbers), whose type it keeps: a TypedDict comes back as
    the same TypedDict. A tuple inside comes back as a list.
    """

    def default(o: Any) -> Any:
        if hasattr(o, "item"):
            return o.item()
        return str(o)

    out: T = json.loads(json.dumps(obj, default=default))
    return out
