"""The portfolio's scores and detector findings: computed once per day and data version, shared by all.

Scoring reads every live account's records (`tools.features`), which costs seconds at 10,000 accounts.
`ScoreCache` makes it a once-per-change cost: the key is (day, `CRMStore.data_version()`), a counter
every write to a CRM table bumps in its own transaction. Within a process the result stays in memory;
across processes (a CLI command, a second worker) it is read back from the `score_runs` table. A past
day's scores are history: any stored run for that day serves (a briefing's "since yesterday").

Stored runs are data, never code: the features and the 30-day-old scores are Arrow IPC files (pyarrow
reads columns of numbers, strings and dates; nothing in them is called). A row in any other format
(the pickles of Retain before schema revision 12, or one crafted by whoever can write the table) is
refused with a warning, deleted and recomputed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError

from core.lazy import lazy
from integrations.crm.models import ScoreRun
from integrations.crm.store import CRMStore
from tools.detectors import detect_many
from tools.health import PortfolioHealth, Scorecard, score, score_portfolio
from tools.results import Detection
from tools.score_view import GAPS, ArrowView, FrameView, ScoreView

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
else:
    pd = lazy("pandas")
    pa = lazy("pyarrow")

log = logging.getLogger("retain.scores")


class Scope(Protocol):
    """What the cache reads of a request's tool context (`tools.crm.ToolContext`)."""

    store: CRMStore
    card: Scorecard
    as_of: date

KEEP_DAYS = 40  # stored runs older than this are pruned when a new one is written
_ARROW_MAGIC = b"ARROW1"  # how an Arrow IPC file starts
# Bumped whenever how features are computed changes (e.g. the sentiment model): stored runs made by
# an older Retain are then recomputed instead of read.
FEATURES_VERSION = "3"  # 2: tone of notes, tickets and surveys from tools.sentiment, with its turn;
# 3: a ticket closed during the as-of day is no longer open that day


def card_digest(card: Scorecard) -> str:
    """A short digest of the scorecard and the features code: a change to either invalidates stored scores."""
    return hashlib.sha256((FEATURES_VERSION + card.model_dump_json()).encode()).hexdigest()[:32]


def to_arrow(frame: pd.DataFrame) -> bytes:
    """A frame as an Arrow IPC file (zstd-compressed): columns and their types, no code."""
    table = pa.Table.from_pandas(frame, preserve_index=True)
    # Arrow has one null; pandas object columns mark a gap with None or NaN, and readers test for either.
    gaps = {str(c): "nan" if any(isinstance(v, float) for v in frame[c]) else "none"
            for c in frame.columns if frame[c].dtype == object}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), GAPS: json.dumps(gaps).encode()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def read_table(data: bytes) -> pa.Table:
    """The Arrow table `to_arrow` wrote (no pandas needed); ValueError for bytes that are not an Arrow IPC file."""
    if not data.startswith(_ARROW_MAGIC):
        raise ValueError("not an Arrow IPC file")
    return pa.ipc.open_file(pa.py_buffer(data)).read_all()


def from_arrow(data: bytes) -> pd.DataFrame:
    """The frame `to_arrow` wrote; ValueError for bytes that are not an Arrow IPC file."""
    table = read_table(data)
    frame = table.to_pandas()
    gaps = json.loads((table.schema.metadata or {}).get(GAPS, b"{}"))
    for name, gap in gaps.items():
        if name in frame.columns:
            values = frame[name].astype(object)
            frame[name] = values.where(values.notna(), float("nan") if gap == "nan" else None)
    return frame


def load_run(store: CRMStore, card: Scorecard, day: date, version: int, today: date) -> PortfolioHealth | None:
    """Stored scores for a day at this data version (any version for a day before `today`), else None.

    A row that is not two Arrow IPC files is never decoded otherwise: it is logged, deleted and None
    returned, so the caller recomputes and stores a good run in its place.
    """
    with store.session() as s:
        run = s.scalars(_stored(card, day, version, today)).first()
        if run is None:
            return None
        try:
            features = from_arrow(run.payload)
            previous = from_arrow(run.previous or b"")["score"].rename(None)
        except Exception as exc:  # noqa: BLE001 - whatever is wrong with the bytes, the run is recomputed
            log.warning("score_runs row (day %s, data version %s) is not in Retain's Arrow format (%s): "
                        "refused and recomputed", run.day, run.data_version, type(exc).__name__)
            s.delete(run)
            return None
    return PortfolioHealth(as_of=day, card=card, features=features, table=score(card, features), previous=previous)


def load_view(store: CRMStore, card: Scorecard, day: date, version: int, today: date) -> ScoreView | None:
    """The stored scores of `load_run` read without pandas (`tools.score_view`), else None.

    None also for a row that is not Retain's Arrow format: `load_run` then refuses and replaces it.
    """
    with store.session() as s:
        run = s.scalars(_stored(card, day, version, today)).first()
        if run is None:
            return None
        payload, previous = run.payload, run.previous
    try:
        return ArrowView(card, read_table(payload), read_table(previous or b""))
    except Exception:  # noqa: BLE001 - whatever is wrong with the bytes, `load_run` deals with the row
        return None


def _stored(card: Scorecard, day: date, version: int, today: date) -> Select[ScoreRun]:
    """The stored run for a day at this data version (the newest for a day before `today`)."""
    q = select(ScoreRun).where(ScoreRun.day == day, ScoreRun.card == card_digest(card))
    q = q.where(ScoreRun.data_version == version) if day >= today else q.order_by(ScoreRun.data_version.desc())
    return q.limit(1)


def save_run(store: CRMStore, health: PortfolioHealth, version: int) -> None:
    """Keep computed scores for other processes; another worker having saved the same run first is fine."""
    digest = card_digest(health.card)
    try:
        payload = to_arrow(health.features)
        previous = to_arrow(health.previous.rename("score").to_frame())
    except (pa.ArrowException, TypeError, ValueError) as exc:  # a column Arrow cannot type: serve, do not store
        log.warning("scores for %s not stored (%s: %s); this process keeps them", health.as_of,
                    type(exc).__name__, str(exc)[:200])
        return
    try:
        with store.session() as s:
            s.execute(delete(ScoreRun).where(ScoreRun.card == digest, ScoreRun.day == health.as_of,
                                             ScoreRun.data_version < version))
            s.execute(delete(ScoreRun).where(ScoreRun.day < health.as_of - timedelta(days=KEEP_DAYS)))
            s.add(ScoreRun(day=health.as_of, data_version=version, card=digest, created_at=datetime.now(),
                           accounts=len(health.features), payload=payload, previous=previous))
    except IntegrityError:
        pass


class ScoreCache:
    """Scores and detector findings per (day, data version), in memory and in `score_runs`.

    One per process (`Services.scores`). Parallel callers wait for one computation.
    """

    KEEP = 3  # today's scores and two other dates (briefings' "since")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[date, int], PortfolioHealth] = {}
        self._found: dict[tuple[date, int], dict[int, list[Detection]]] = {}
        self._views: dict[tuple[date, int], ScoreView] = {}
        self.computed = 0  # how many times this process scored the portfolio itself (for tests and bench)
        self.detections = 0  # how many accounts' detectors this process ran (for tests and bench)

    def get(self, ctx: Scope, day: date | None = None) -> PortfolioHealth:
        """Scores for a date (the context's by default) at the store's current data version."""
        day = day or ctx.as_of
        version = ctx.store.data_version()
        key = (day, version)
        with self._lock:
            hit = self._by_key.get(key)
            if hit is None:
                hit = load_run(ctx.store, ctx.card, day, version, ctx.as_of)
                if hit is None:
                    hit = score_portfolio(ctx.store, ctx.card, day)
                    self.computed += 1
                    save_run(ctx.store, hit, version)
                self._by_key = {k: v for k, v in self._by_key.items() if k[0] != day}
                while len(self._by_key) >= self.KEEP:
                    self._by_key.pop(next(iter(self._by_key)))
                self._by_key[key] = hit
            return hit

    def view(self, ctx: Scope, day: date | None = None) -> ScoreView:
        """Scores for a date read per account: frames this process holds, else the stored run without pandas.

        Only when no run is stored does this score the portfolio (`get`), which needs the frames.
        """
        day = day or ctx.as_of
        version = ctx.store.data_version()
        key = (day, version)
        with self._lock:
            hit = self._views.get(key)
            if hit is None and key in self._by_key:
                hit = FrameView(self._by_key[key])
            if hit is None:
                hit = load_view(ctx.store, ctx.card, day, version, ctx.as_of)
            if hit is not None:
                self._keep_view(key, hit)
                return hit
        view = FrameView(self.get(ctx, day))
        with self._lock:
            self._keep_view(key, view)
        return view

    def _keep_view(self, key: tuple[date, int], view: ScoreView) -> None:
        self._views = {k: v for k, v in self._views.items() if k[0] != key[0]}
        while len(self._views) >= self.KEEP:
            self._views.pop(next(iter(self._views)))
        self._views[key] = view

    def detected(self, ctx: Scope, account_ids: list[int],
                 day: date | None = None) -> dict[int, list[Detection]]:
        """Telemetry and fine-tune findings per account, run (vectorised) only for accounts not yet seen."""
        day = day or ctx.as_of
        key = (day, ctx.store.data_version())
        with self._lock:
            found = self._found.setdefault(key, {})
            for stale in [k for k in self._found if k != key and k[0] == day]:
                del self._found[stale]
            missing = [a for a in dict.fromkeys(account_ids) if a not in found]
        if missing:
            fresh = detect_many(ctx.store, missing, day)
            with self._lock:
                found.update(fresh)
                self.detections += len(missing)
        return {a: copy.deepcopy(found[a]) for a in account_ids}  # callers may annotate their copy


def clear(store: CRMStore) -> int:
    """Forget every stored run (`retain scores --refresh`); return how many there were."""
    with store.session() as s:
        n = s.scalar(select(func.count()).select_from(ScoreRun)) or 0
        s.execute(delete(ScoreRun))
    return int(n)

