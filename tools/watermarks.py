"""Where incremental syncs resume, kept safe from one bad record.

A sync remembers the largest modification time it has read (its watermark) and starts there next
time. One record dated 2999 would move it past every real change, and one unreadable time would
make every later run fail; so a time that cannot be read, or that lies beyond `FUTURE_TOLERANCE`
from now, is a rejected row (reported with its reason), never a watermark, and a stored watermark
like that (written before this check) is skipped in favour of the last good one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from integrations.crm.models import SyncRun
from integrations.crm.store import CRMStore

FUTURE_TOLERANCE = timedelta(days=1)  # clocks and time zones differ; a day more is a bad record


def as_time(value: Any) -> datetime | None:
    """A date, datetime or ISO-8601 text as an aware UTC datetime; None if it is not one."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, datetime.min.time())
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def problem(value: Any, now: datetime | None = None) -> str | None:
    """Why a modification time cannot move a watermark (unreadable, or in the future), else None."""
    when = as_time(value)
    if when is None:
        return f"modification time '{str(value)[:40]}' is not a time"
    if when > (now or datetime.now(UTC)) + FUTURE_TOLERANCE:
        return f"modification time {str(value)[:40]} is in the future"
    return None


def looks_like_time(value: Any) -> bool:
    """Whether a watermark value is meant as a date or time (a warehouse may also count ids)."""
    return isinstance(value, date) or (isinstance(value, str) and len(value) >= 8 and value[:4].isdigit()
                                       and value[4:5] == "-")


def last_good(store: CRMStore, source: str, *, only_ok: bool = False, times_only: bool = True) -> str | None:
    """The newest stored watermark of `source` fit to resume from: a readable time, not in the future.

    `times_only=False` (a warehouse query may count ids): a value that does not look like a date passes.
    """
    q = select(SyncRun.watermark).where(SyncRun.source == source, SyncRun.watermark.is_not(None))
    if only_ok:
        q = q.where(SyncRun.status == "ok")
    with store.session() as s:
        for (wm,) in s.execute(q.order_by(SyncRun.id.desc()).limit(500)):
            if (not times_only and not looks_like_time(wm)) or problem(wm) is None:
                return str(wm)
    return None
