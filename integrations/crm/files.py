"""Reading the files people import: CSV (UTF-8, a header line) and Parquet, as rows of cells.

Shared by every kind (CRM records, product data, people). Also the other half of `retain export`'s
CSV-injection protection: a cell `'=...` that export (or a spreadsheet) protected reads as `=...`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
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
    """All the rows of a file at once (`iter_rows`), for kinds whose files are small (people)."""
    rows, unit = iter_rows(path)
    return list(rows), unit


def iter_rows(path: Path) -> tuple[Iterator[tuple[int, dict[str, Any]]], str]:
    """The rows of a CSV or Parquet file, each with its number, and what the number counts ("line", "row").

    Rows are read as they are consumed (Parquet a batch at a time), so a big file never sits in memory
    whole. CSV: UTF-8 with a header line (line numbers as an editor shows them); a cell `'=...` (a
    formula that `retain export` or a spreadsheet protected as text) reads as `=...`. Parquet
    (`.parquet`): row numbers from 1; columns must hold plain values. Empty cells are None either way.
    A file that turns out unreadable part-way raises RetainError naming the place.
    """
    if not path.is_file():
        raise RetainError(f"File {path} does not exist.")
    if path.suffix.lower() in (".parquet", ".pq"):
        return _parquet(path), "row"
    fh = path.open(newline="", encoding="utf-8-sig")
    try:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise RetainError(f"{path} is empty: it needs a header line and rows.")
    except UnicodeDecodeError:
        fh.close()
        raise RetainError(f"{path} is not UTF-8 text. Export it as CSV (UTF-8).") from None
    except (csv.Error, RetainError) as exc:
        fh.close()
        raise RetainError(str(exc) if isinstance(exc, RetainError) else f"{path} is not valid CSV: {exc}.") from None
    return _csv_rows(path, fh, reader), "line"


def _csv_rows(path: Path, fh: Any, reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    with fh:
        try:
            for row in reader:
                extra = row.pop(None, None)  # type: ignore[call-overload]
                if extra and any(str(c).strip() for c in extra):  # more filled cells than the header has columns
                    width = len(reader.fieldnames or [])
                    raise RetainError(f"{path} line {reader.line_num}: {width + len(extra)} cells for {width} "
                                      "columns. Quote cells that hold commas.")
                yield reader.line_num, {k: spreadsheet_value(v) if isinstance(v, str) else v for k, v in row.items()}
        except UnicodeDecodeError:
            raise RetainError(f"{path} is not UTF-8 text after line {reader.line_num}. Export it as CSV (UTF-8)."
                              ) from None
        except csv.Error as exc:
            raise RetainError(f"{path} is not valid CSV at line {reader.line_num}: {exc}.") from None


_BATCH = 5_000  # Parquet rows read at a time


def _parquet(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        nested = [f"{f.name} ({f.type})" for f in pf.schema_arrow
                  if pa.types.is_nested(f.type) or pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
        raise RetainError(f"{path} is not a readable Parquet file ({type(exc).__name__}). "
                          "Write it with pandas.DataFrame.to_parquet or pyarrow.") from None
    if nested:
        raise RetainError(f"{path}: column(s) {', '.join(nested)} hold lists, structures or bytes; Retain reads "
                          "plain values (text, numbers, dates, true/false). Flatten them, or write JSON text.")
    n = 0
    try:
        for batch in pf.iter_batches(batch_size=_BATCH):
            for row in batch.to_pylist():
                n += 1
                yield n, {k: (None if v == "" else v) for k, v in row.items()}
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise RetainError(f"{path} cannot be read after row {n} ({type(exc).__name__}). "
                          "Write it again with pandas.DataFrame.to_parquet or pyarrow.") from None
