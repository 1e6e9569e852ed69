"""Reading the files people import: CSV (UTF-8, a header line) and Parquet, as rows of cells.

Shared by every kind (CRM records, product data, people). Also the other half of `retain export`'s
CSV-injection protection: a cell `'=...` that export (or a spreadsheet) protected reads as `=...`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from core.errors import RetainError

# OWASP's CSV injection guidance: a cell starting with one of these is a formula to a spreadsheet.
_FORMULA = re.compile("^'*[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]")
_ESCAPED = re.compile("^'+[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]")


def spreadsheet_safe(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: a formula-like value gets a leading `'`.

    Values already starting with quotes before a formula character get one more, so `spreadsheet_value`
    (what `read_rows` applies) gives back exactly the original for every string.
    """
    return "'" + value if _FORMULA.match(value) else value


def spreadsheet_value(cell: str) -> str:
    """The value `spreadsheet_safe` protected: one leading `'` before a formula character removed."""
    return cell[1:] if _ESCAPED.match(cell) else cell


def read_rows(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], str]:
    """The rows of a CSV or Parquet file, each with its number, and what the number counts ("line", "row").

    CSV: UTF-8 with a header line (line numbers as an editor shows them); a cell `'=...` (a formula
    that `retain export` or a spreadsheet protected as text) reads as `=...`. Parquet (`.parquet`): row
    numbers from 1. Empty cells are None either way.
    """
    if not path.is_file():
        raise RetainError(f"File {path} does not exist.")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
            raise RetainError(f"{path} is not a readable Parquet file ({type(exc).__name__}). "
                              "Write it with pandas.DataFrame.to_parquet or pyarrow.") from None
        return [(i, {k: (None if v == "" else v) for k, v in row.items()})
                for i, row in enumerate(table.to_pylist(), start=1)], "row"
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames:
                raise RetainError(f"{path} is empty: it needs a header line and rows.")
            return [(reader.line_num, {k: spreadsheet_value(v) if isinstance(v, str) else v for k, v in row.items()})
                    for row in reader], "line"
    except UnicodeDecodeError:
        raise RetainError(f"{path} is not UTF-8 text. Export it as CSV (UTF-8).") from None
    except csv.Error as exc:
        raise RetainError(f"{path} is not valid CSV: {exc}.") from None
