"""What an imported cell may hold: no control characters, no infinite numbers; look-alike text flagged.

A NUL byte is refused by PostgreSQL mid-import, `inf` ARR turns `--json` output into invalid JSON,
and a name with a zero-width space, a right-to-left override or Cyrillic letters among Latin ones
looks like another account's name while matching none. The first two are errors naming the column;
look-alikes are imported with a warning, since a real name may use another script.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE")  # scripts with Latin look-alike letters


def control_problem(value: Any) -> str | None:
    """Why a text cell cannot be stored (a NUL byte, other control characters), else None."""
    if isinstance(value, str) and (m := _CONTROL.search(value)):
        if m.group() == "\x00":
            return "contains a NUL byte"
        return f"contains a control character (U+{ord(m.group()):04X})"
    return None


def check_text(value: Any) -> Any:
    """A pydantic before-validator: the value, or ValueError for control characters."""
    why = control_problem(value)
    if why:
        raise ValueError(why)
    return value


def check_finite(value: Any) -> Any:
    """ValueError for an infinite or NaN number anywhere in a value (numbers, JSON objects, lists)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    if isinstance(value, dict):
        for v in value.values():
            check_finite(v)
    elif isinstance(value, list):
        for v in value:
            check_finite(v)
    return value


def _script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    return next((s for s in _SCRIPTS if name.startswith(s + " ")), None)


def lookalike(value: Any) -> str | None:
    """Why a text may be mistaken for another (invisible or direction characters, mixed scripts), else None."""
    if not isinstance(value, str):
        return None
    if m := _INVISIBLE.search(value):
        return f"'{_shown(value)}' holds an invisible or text-direction character (U+{ord(m.group()):04X})"
    for word in re.findall(r"\w+", value):
        scripts = {s for ch in word if (s := _script(ch))}
        if len(scripts) > 1:
            return f"'{_shown(value)}' mixes {' and '.join(sorted(s.title() for s in scripts))} letters in '{word}'"
    return None


def _shown(value: str) -> str:
    """The text with invisible characters made visible, for a warning."""
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", value)[:80]


def lookalikes(fields: dict[str, Any], names: tuple[str, ...] = ("name",)) -> list[str]:
    """Warnings for a row's text: invisible characters in any column, mixed scripts in its names."""
    out = []
    for k, v in fields.items():
        why = lookalike(v)
        if why and (k in names or "mixes" not in why):
            out.append(f"{k}: {why}")
    return out


class CleanRow(BaseModel):
    """Base of every import row schema: text without control characters, numbers finite."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, allow_inf_nan=False)

    _no_control_characters = field_validator("*", mode="before")(check_text)


_INT_MAX = 2**31 - 1  # the INTEGER columns of PostgreSQL (and the schema's everywhere)


def misfit(values: dict[str, Any], table: Any) -> str | None:
    """Why a row's values do not fit its table's columns (text too long, a number too big), else None."""
    for name, v in values.items():
        col = table.columns.get(name)
        if col is None or v is None:
            continue
        length = getattr(col.type, "length", None)
        if isinstance(v, str) and length and len(v) > length:
            return f"{name}: at most {length} characters (this one has {len(v):,})"
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > _INT_MAX:
            return f"{name}: {v} is too large (at most {_INT_MAX:,})"
    return None


def fitted(values: dict[str, Any], table: Any) -> dict[str, Any]:
    """The text values longer than their column, cut to fit (ending in an ellipsis)."""
    out = {}
    for name, v in values.items():
        col = table.columns.get(name)
        length = getattr(col.type, "length", None) if col is not None else None
        if isinstance(v, str) and length and len(v) > length:
            out[name] = v[:length - 1] + "…"
    return out
