"""The query layer's work on rows in plain Python: conditions on score fields, sorting, aggregates.

Rows are dicts (one per SQL row, with the day's score fields added for accounts). Nothing here needs
pandas, so a lookup or a list of records never imports it; the semantics are pandas' as `run` had
them: a gap (None, NaN, NaT) matches only `is_null` (and `ne`), sorts last whatever the direction,
and is left out of sums, means, minima and maxima.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.lazy import lazy, loaded
from tools.plain import scalar

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

Row = dict[str, Any]


def is_gap(v: Any) -> bool:
    """None, a float NaN or a pandas NaT/NA: no value."""
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return loaded("pandas") and (v is pd.NaT or v is pd.NA)  # no pandas loaded: no pandas gap


def matches(v: Any, op: str, kind: str, value: Any) -> bool:
    """Whether a value meets a filter's operator and value (already in the field's kind)."""
    if op in ("is_null", "not_null"):
        return is_gap(v) == (op == "is_null")
    if kind == "text":
        low = "" if is_gap(v) else str(v).lower()
        if op == "contains":
            return str(value).lower() in low
        if op == "in":
            return low in {str(x).lower() for x in (value if isinstance(value, list) else [value])}
        return (low == str(value).lower()) if op == "eq" else (low != str(value).lower())
    if is_gap(v):
        return op == "ne"
    try:
        if op == "in":
            return any(v == x for x in (value if isinstance(value, list) else [value]))
        if op == "between":
            return bool(value[0] <= v <= value[1])
        return bool({"eq": lambda: v == value, "ne": lambda: v != value, "lt": lambda: v < value,
                     "le": lambda: v <= value, "gt": lambda: v > value, "ge": lambda: v >= value}[op]())
    except TypeError:  # a value of another type (a text in a number field): no match, as pandas has it
        return op == "ne"


def sort_rows(rows: list[Row], keys: Sequence[tuple[str, bool]]) -> list[Row]:
    """Stable sort by (field, descending) keys, gaps last for every key."""
    for name, desc in reversed(keys):
        full = [r for r in rows if not is_gap(r.get(name))]
        gaps = [r for r in rows if is_gap(r.get(name))]
        try:
            full.sort(key=lambda r: r[name], reverse=desc)  # noqa: B023 - used at once
        except TypeError:  # mixed types: compare as text
            full.sort(key=lambda r: str(r[name]), reverse=desc)  # noqa: B023 - used at once
        rows = full + gaps
    return rows


def _number(v: Any) -> float | None:
    """A value as a number for an aggregate (pd.to_numeric with errors="coerce"), None for a gap or a word."""
    if is_gap(v):
        return None
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float | Decimal):
        return float(v)
    if hasattr(v, "item") and not isinstance(v, str):  # a numpy number
        return float(v.item())
    try:
        return float(str(v))
    except ValueError:
        return None


_FNS: dict[str, Callable[[list[float]], float]] = {
    "sum": math.fsum, "avg": lambda xs: math.fsum(xs) / len(xs), "min": min, "max": max}


def aggregate(rows: list[Row], aggregates: Sequence[tuple[str, str | None]], group_by: str | None,
              first_sort: tuple[str, bool] | None) -> tuple[list[Row], Row]:
    """(fn, field) aggregates over all rows and, with `group_by`, per group.

    Groups are ranked by the aggregate of the first sort field (`first_sort`: field, descending), else by size.
    """
    if not aggregates:
        return [], {}

    def agg(part: list[Row]) -> Row:
        out: Row = {"count": len(part)}
        for fn, name in aggregates:
            if fn == "count" or name is None:
                continue
            nums = [x for x in (_number(r.get(name)) for r in part) if x is not None]
            out[f"{fn}_{name}"] = scalar(_FNS[fn](nums)) if nums else None
        out["account_ids"] = sorted({int(r["account_id"]) for r in part})
        return out

    totals = agg(rows)
    groups: list[Row] = []
    if group_by:
        parts: dict[Any, list[Row]] = {}
        for r in rows:
            key = r.get(group_by)
            parts.setdefault("(none)" if is_gap(key) else key, []).append(r)
        try:
            ordered = sorted(parts)
        except TypeError:
            ordered = sorted(parts, key=str)
        groups = [{"group": scalar(key), **agg(parts[key])} for key in ordered]
        by = next((f"{fn}_{name}" for fn, name in aggregates if first_sort and name == first_sort[0]), None)
        if by is not None and first_sort:  # groups ranked by the aggregate the sort names
            desc = first_sort[1]
            groups.sort(key=lambda g: (g.get(by) is None, -(g.get(by) or 0) if desc else (g.get(by) or 0)))
        else:  # else the biggest groups first
            groups.sort(key=lambda g: -g["count"])
    return groups, totals
