"""How every benchmark reports: JSON with --json, else one rich table (measure, value, target)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table


def report(result: dict[str, Any], as_json: bool, title: str, rows: list[tuple[str, str, str]],
           first: str = "measure", value: str = "value") -> None:
    """Print the result as JSON, or the rows as a table."""
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    t = Table(title=title)
    t.add_column(first)
    t.add_column(value, justify="right")
    t.add_column("target", justify="right")
    for row in rows:
        t.add_row(*row)
    Console().print(t)
