"""Plain JSON from numpy/pandas values: one place for what checkpoints, answers and tools return."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd


def scalar(v: Any) -> Any:
    """A numpy/pandas scalar as plain JSON: NaN and NaT become None, floats rounded to 4 places."""
    if v is pd.NaT:
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
