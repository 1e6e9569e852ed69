"""Warehouse sync: the vendor's metering database or warehouse, read through SQL queries on a schedule.

A mapping file (YAML) names a database (any SQLAlchemy URL; `${VAR}` taken from the environment)
and one query per source. Each query returns rows in the shape of an importable kind (`telemetry`,
`requests`, `fine_tunes`, or a CRM kind) under those column names (`SELECT org_id AS
account_external_id, ...`). A source is incremental: its query takes `:watermark`, the largest
value of its `watermark` column seen by the last successful run (the first run gets `since`), and
`overlap` re-reads a little before it so late rows are picked up; re-reading is harmless because
writes are idempotent upserts.

Unlike a one-off file import, a scheduled sync does not stop on a bad row (it would stop every run
until someone fixed the warehouse): it writes the good rows, counts the rejected ones and keeps
their reasons in the run's record (`retain sync status`). `dry_run` validates and computes what
would change inside a transaction that is rolled back.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import SQLAlchemyError

from core.errors import RetainError, mask_secrets
from integrations.crm import importer
from integrations.crm.models import SyncRun
from integrations.crm.store import CRMStore
from tools import data_import, product_import, stored_rows, watermarks

_VAR = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
KINDS = ["telemetry", "requests", "fine_tunes", "plans", "milestones", "renewals"]


class Source(BaseModel):
    """One query: what kind of rows it returns and how it is incremental."""

    model_config = {"extra": "forbid"}
    kind: str
    query: str = Field(min_length=1)
    watermark: str | None = None  # a column of the result; the query takes :watermark
    since: str = "1970-01-01"  # the first run's watermark
    overlap: str | None = None  # e.g. "2d": re-read this much before the watermark (dates and timestamps)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        return v


class Mapping(BaseModel):
    """A mapping file."""

    model_config = {"extra": "forbid"}
    url: str = ""
    sources: dict[str, Source] = Field(min_length=1)


def load(path: str | Path) -> Mapping:
    """Read and check a mapping file; one clear error for what is wrong."""
    p = Path(path)
    if not p.is_file():
        raise RetainError(f"Warehouse mapping {p} does not exist. Start from configs/warehouse.example.yaml.")
    try:
        data = yaml.safe_load(p.read_text()) or {}
        return Mapping.model_validate(data)
    except yaml.YAMLError as exc:
        raise RetainError(f"Warehouse mapping {p} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        raise RetainError(f"Warehouse mapping {p}: {importer._describe(exc)}") from None


def resolve_url(mapping: Mapping, setting: str = "") -> str:
    """The database URL: the setting, else the mapping's with ${VAR} from the environment."""
    url = setting or mapping.url
    missing = [v for v in _VAR.findall(url) if v not in os.environ]
    if missing:
        raise RetainError(f"The warehouse URL needs the environment variable(s) {', '.join(missing)}.")
    url = _VAR.sub(lambda m: os.environ[m.group(1)], url)
    if not url:
        raise RetainError("No warehouse URL: set warehouse.url (RETAIN_WAREHOUSE__URL) or `url` in the mapping.")
    return url


def _overlap(wm: str, overlap: str | None) -> Any:
    """The watermark to query from: a date or timestamp moved back by `overlap`; anything else as is."""
    if not overlap:
        return wm
    m = re.fullmatch(r"(\d+)\s*([dhm])", overlap.strip())
    if not m:
        raise RetainError(f"overlap '{overlap}' is not like 2d, 6h or 30m.")
    delta = timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[m.group(2)]: int(m.group(1))})
    try:
        if len(wm) == 10:
            return (date.fromisoformat(wm) - delta).isoformat()
        return (datetime.fromisoformat(wm) - delta).isoformat(sep=" ")
    except ValueError:
        return wm


def last_watermark(store: CRMStore, source: str) -> str | None:
    """The watermark of the source's last successful run (passing over one in the future: `tools.watermarks`)."""
    return watermarks.last_good(store, source, only_ok=True, times_only=False)


def _late_rows(raw: list[dict[str, Any]], column: str | None) -> dict[int, str]:
    """Rows (numbered from 1) whose watermark is an unreadable time or lies in the future, with why.

    They are rejected, so that one row dated 2999 cannot move the watermark past every real change.
    """
    if not column:
        return {}
    out = {}
    for n, row in enumerate(raw, start=1):
        v = row.get(column)
        if v is not None and (isinstance(v, date) or watermarks.looks_like_time(v)):
            why = watermarks.problem(v)
            if why:
                out[n] = f"{column}: {why}"
    return out


def _cell(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(sep="T")
    if isinstance(v, date):
        return v.isoformat()
    return v


class SourceReport(TypedDict):
    """What one warehouse source's run did (or would, in a dry run)."""

    source: str
    kind: str
    rows: int
    inserted: int
    updated: int
    rejected: int
    problems: list[tuple[int, str]]  # (row, why), the first 20
    watermark_from: str | None
    watermark: str | None
    dry_run: bool


class SourceStatus(TypedDict):
    """A source's last run (file imports, the warehouse, connectors) and how many runs it had."""

    source: str
    last_run: datetime | None
    status: str
    rows_in: int
    inserted: int
    updated: int
    rejected: int
    watermark: str | None
    runs: int
    error: str | None
    next_run: NotRequired[str]  # when the scheduler runs it next (the CLI adds it)


def run(store: CRMStore, mapping_file: str | Path, url: str = "", only: list[str] | None = None,
        dry_run: bool = False) -> list[SourceReport]:
    """Run every source (or `only` these); per source what came in and what changed (or would)."""
    mapping = load(mapping_file)
    unknown = sorted(set(only or []) - set(mapping.sources))
    if unknown:
        raise RetainError(f"No source {', '.join(unknown)} in {mapping_file}; it has {', '.join(mapping.sources)}.")
    engine = create_engine(resolve_url(mapping, url), pool_pre_ping=True)
    try:
        return [_one(store, engine, name, src, dry_run) for name, src in mapping.sources.items()
                if not only or name in only]
    finally:
        engine.dispose()


def _one(store: CRMStore, engine: Engine, name: str, src: Source, dry_run: bool) -> SourceReport:
    source = f"warehouse:{name}"
    started = datetime.now()
    wm = last_watermark(store, source) or src.since
    try:
        with engine.connect() as conn:
            since = _overlap(wm, src.overlap)
            if src.kind == "requests":  # a day's events are summed together: always re-read whole days
                since = str(since)[:10]
            result = conn.execute(text(src.query), {"watermark": since} if src.watermark else {})
            raw = [dict(r._mapping) for r in result]
    except SQLAlchemyError as exc:
        why = mask_secrets(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        if not dry_run:
            data_import.record(store, source, started, "failed", error=why)
        raise RetainError(f"Warehouse source '{name}' failed: {why}") from None
    if src.watermark and raw and src.watermark not in raw[0]:
        raise RetainError(f"Warehouse source '{name}': the query returns no column '{src.watermark}' "
                          f"(its watermark); it returns {', '.join(raw[0])}.")
    accounts, plans = product_import.references(store)
    late = _late_rows(raw, src.watermark)
    raw_ok = [(n, row) for n, row in enumerate(raw, start=1) if n not in late]
    rows = [(n, {k: _cell(v) for k, v in row.items()}) for n, row in raw_ok]

    def stored(chunk: list[tuple[int, dict[str, Any]]]) -> dict[Any, dict[str, Any]]:
        with store.session() as session:
            return stored_rows.stored(session, src.kind, product_import.SCHEMAS[src.kind], chunk, accounts, plans)

    recs, bad = product_import.validate(src.kind, rows, accounts, plans, "row", repeats="last",  # the last word wins
                                        stored=stored)
    bad = sorted([*bad, *late.items()])
    new_wm = max((str(_cell(r[src.watermark])) for _n, r in raw_ok if r.get(src.watermark) is not None),
                 default=None) if src.watermark else None
    if new_wm is not None and wm and new_wm < wm:
        new_wm = wm
    class _DryRun(Exception):  # noqa: N818 - rolls the dry run's transaction back
        pass

    counts = (0, 0)
    try:
        with store.session() as session:
            counts = product_import.write(session, src.kind, recs, accounts, plans, store,
                                          set(raw[0]) if raw else None)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    inserted, updated = counts
    problems = "; ".join(f"row {n}: {why}" for n, why in bad[:20]) or None
    out: SourceReport = {"source": name, "kind": src.kind, "rows": len(raw), "inserted": inserted, "updated": updated,
           "rejected": len(bad), "problems": bad[:20], "watermark_from": wm, "watermark": new_wm or wm,
           "dry_run": dry_run}
    if not dry_run:
        data_import.record(store, source, started, "ok", rows_in=len(raw), inserted=inserted, updated=updated,
                           rejected=len(bad), watermark=new_wm or wm, error=problems)
    return out


def status(store: CRMStore) -> list[SourceStatus]:
    """Per source (file imports, the warehouse, connectors): its last run and totals."""
    with store.session() as s:
        runs = list(s.scalars(select(SyncRun).order_by(SyncRun.id)))
    last: dict[str, SyncRun] = {}
    count: dict[str, int] = {}
    for r in runs:
        last[r.source] = r
        count[r.source] = count.get(r.source, 0) + 1
    return [{"source": k, "last_run": r.finished_at or r.started_at, "status": r.status, "rows_in": r.rows_in,
             "inserted": r.inserted, "updated": r.updated, "rejected": r.rejected, "watermark": r.watermark,
             "runs": count[k], "error": mask_secrets(r.error) if r.error else None}
            for k, r in sorted(last.items())]
