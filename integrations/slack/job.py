"""One inbox item as a worker runs it: Slack's payload untouched, and the claim's facts beside it.

A `Job` is read from its `slack_inbox` row (JSON columns; never pickled): the payload is what the
listener accepted, `attempt`, `claimed_by` and `lease_until` come from the claim, and `state` is
what earlier attempts kept (`Inbox.keep`, e.g. the placeholder's ts), read from the row's result.
Rows written before `Job` existed read the same way: the old code added `_attempt`, `_last`,
`_state` and `_key` to its in-memory copy of the payload only, so their payload is the same JSON,
and their state is under the same `result.state`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.slack.acks import MAX_ATTEMPTS


@dataclass
class Job:
    """An inbox item claimed by this worker: what Slack sent, and which attempt this is."""

    key: str
    kind: str
    payload: dict[str, Any]
    attempt: int = 1
    state: dict[str, Any] = field(default_factory=dict)
    """What earlier attempts of this item did (placeholder ts, stream ts, uploaded deck); handlers add to it."""
    thread_key: str | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None

    @property
    def last(self) -> bool:
        """Whether a failure now is final (the person is told once, on the last attempt)."""
        return self.attempt >= MAX_ATTEMPTS

    @property
    def retried(self) -> bool:
        """Whether an earlier attempt ran (and may have posted before it died)."""
        return self.attempt > 1

    @classmethod
    def from_row(cls, key: str, kind: str, payload: Mapping[str, Any] | None, attempts: int,
                 result: Mapping[str, Any] | None = None, thread_key: str | None = None,
                 claimed_by: str | None = None, lease_until: datetime | None = None) -> Job:
        """The job a claimed row holds (any row, whichever version of Retain wrote it)."""
        state = (result or {}).get("state")
        return cls(key=key, kind=kind, payload=dict(payload or {}), attempt=int(attempts or 1),
                   state=dict(state) if isinstance(state, Mapping) else {},
                   thread_key=thread_key, claimed_by=claimed_by, lease_until=lease_until)
