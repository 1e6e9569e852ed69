"""Every kind of data a team brings, from CSV or Parquet: validated, all or nothing, idempotent.

CRM kinds (accounts, contacts, contracts, tickets, notes, nps) go through
`integrations.crm.importer`; the vendor's product signals (telemetry, raw requests, fine-tunes,
onboarding plans and milestones, renewal history) through `tools.product_import`; people through
`tools.people`. Every run is recorded in `sync_runs` (`retain sync status` lists them).
A file that lacks some columns changes only the columns it has on records that exist; blank cells
that empty a stored value are counted per column in the result's `cleared`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import ImportValidationError, RetainError
from integrations.crm import files, importer
from integrations.crm.importer import ImportResult
from integrations.crm.models import SyncRun
from integrations.crm.store import CRMStore
from tools import people, product_import, stored_rows

KINDS = [*importer.KINDS, "telemetry", "requests", "fine_tunes", "plans", "milestones", "renewals", "csms"]
ORDER = ["csms", "accounts", "contacts", "contracts", "tickets", "notes", "nps", "telemetry", "fine_tunes",
         "plans", "milestones", "renewals"]  # what `import all` reads, parents first


def import_file(store: CRMStore, kind: str, path: Path, mapping: str | None = None,
                skip_bad: bool = False) -> ImportResult:
    """Import one file of one kind; counts, and the bad rows when skip_bad. Recorded as a sync run."""
    if kind not in KINDS:
        raise RetainError(f"Unknown kind '{kind}'. Use one of: {', '.join(KINDS)}.")
    started = datetime.now()
    try:
        if kind == "csms":
            r = people.import_csv(store, path)
            result: ImportResult = {"kind": kind, "rows": r["rows"], "inserted": r["added"], "updated": r["updated"],
                      "skipped": 0, "bad": [], "cleared": r["cleared"], "warnings": r["warnings"]}
        elif kind in importer.KINDS:
            result = importer.import_csv(store, kind, path, mapping, skip_bad)
        else:
            result = _import_product(store, kind, path, mapping, skip_bad)
    except ImportValidationError as exc:
        record(store, f"import:{kind}", started, "failed", rows_in=0, rejected=len(exc.problems), error=str(exc))
        raise
    except RetainError as exc:
        record(store, f"import:{kind}", started, "failed", error=str(exc))
        raise
    record(store, f"import:{kind}", started, "ok", rows_in=result["rows"], inserted=result["inserted"],
           updated=result["updated"], rejected=result["skipped"])
    return result


def _import_product(store: CRMStore, kind: str, path: Path, mapping: str | None, skip_bad: bool) -> ImportResult:
    header_map = importer.load_mapping(kind, mapping)
    raw, unit = files.iter_rows(path)
    accounts, plans = product_import.references(store)
    rows = ((line, {header_map.get(k, k): (v if v != "" else None) for k, v in row.items() if k}) for line, row in raw)
    schema = product_import.SCHEMAS[kind]
    present: set[str] = set()

    def stored(chunk: list[tuple[int, dict[str, Any]]]) -> dict[Any, dict[str, Any]]:
        present.update(k for _line, fields in chunk for k in fields)
        with store.session() as s:
            return stored_rows.stored(s, kind, schema, chunk, accounts, plans)

    report: product_import.ValidationReport = {}
    good, bad = product_import.validate(kind, rows, accounts, plans, unit, stored=stored,
                                        all_or_nothing=not skip_bad, report=report)
    if bad and not skip_bad:
        raise ImportValidationError(bad, report["rows"], unit)
    with store.session() as s:
        inserted, updated = product_import.write(s, kind, good, accounts, plans, store, present)
    return {"kind": kind, "rows": report["rows"], "inserted": inserted, "updated": updated, "skipped": len(bad),
            "bad": bad, "cleared": report["cleared"], "warnings": report["warnings"]}


def import_dir(store: CRMStore, folder: Path, mapping: str | None = None) -> list[ImportResult]:
    """Every `<kind>.csv` / `<kind>.parquet` in a folder, parents first (what `retain export` writes)."""
    if not folder.is_dir():
        raise RetainError(f"{folder} is not a folder.")
    out: list[ImportResult] = []
    for kind in ORDER:
        for ext in (".csv", ".parquet"):
            path = folder / f"{kind}{ext}"
            if path.is_file():
                out.append(import_file(store, kind, path, mapping))
    if not out:
        raise RetainError(f"{folder} has no files named after a kind ({', '.join(f'{k}.csv' for k in ORDER)}).")
    return out


def record(store: CRMStore, source: str, started: datetime, status: str, *, rows_in: int = 0, inserted: int = 0,
           updated: int = 0, rejected: int = 0, watermark: str | None = None, error: str | None = None) -> None:
    """Keep what a run of a source did."""
    with store.session() as s:
        s.add(SyncRun(source=source, started_at=started, finished_at=datetime.now(), status=status,
                      rows_in=rows_in, inserted=inserted, updated=updated, rejected=rejected,
                      watermark=watermark, error=(error or "")[:2000] or None))
