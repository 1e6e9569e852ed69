"""Plain JSON from numpy/pandas values: one place for what checkpoints, answers and tools return."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

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


def plain(obj: Any) -> Any:
    """A JSON-clean deep copy (numpy numbers become Python numbers, anything else its text)."""

    def default(o: Any) -> Any:
        if hasattr(o, "item"):
            return o.item()
        return str(o)

    return json.loads(json.dumps(obj, default=default))
