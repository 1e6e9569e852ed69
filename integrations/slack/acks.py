"""The ack path's writes: every accepted Slack event becomes an inbox row, acks that arrive together in one commit."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from integrations.crm.models import SlackInbox
from integrations.crm.store import CRMStore

MAX_ATTEMPTS = 3
_T: Table = SlackInbox.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Stored:
    """An inbox row's state as the ack path found it (the event was already recorded)."""

    status: str
    attempts: int
    lease_until: datetime | None

    def settled(self, now: datetime) -> bool:
        """Nothing to schedule: done, out of attempts, or running under a live claim."""
        return self.status == "done" or self.attempts >= MAX_ATTEMPTS or (
            self.status == "running" and self.lease_until is not None and self.lease_until > now)


_UNSEEN = Stored("running", 0, datetime.max)  # written by a transaction this one cannot see yet: in hand


class GroupCommit:
    """Acks that arrive together are written together: one INSERT and one commit per group.

    A caller that finds no write in progress writes every row queued so far (its own among them);
    rows queued during that write wait, and one of their callers writes them next. A burst of N
    acks costs a few commits instead of N, and on SQLite nobody waits in its busy handler (whose
    growing sleeps made the slowest acks the slowest). Each row learns whether it was new; a key
    already in the table, or earlier in the same group, is not, and learns the stored row's state
    from the same transaction (a retry needs no second query). If a group's write fails, its rows
    are written one by one, so one bad row fails only its own ack.
    """

    def __init__(self, store: CRMStore):
        self.store = store
        self.cond = threading.Condition()
        self.queue: list[tuple[dict[str, Any], list[Any]]] = []
        self.writing = False
        dialect = store.engine.dialect.name
        self.insert = pg_insert if dialect == "postgresql" else sqlite_insert if dialect == "sqlite" else None

    def write(self, row: dict[str, Any]) -> bool:
        """Write the row with whatever else is waiting; True when it was new. Raises what the write raised."""
        return self.add(row) is None

    def add(self, row: dict[str, Any]) -> Stored | None:
        """Write the row with whatever else is waiting: None when it was new, else the stored row's state."""
        out: list[Any] = []  # [None/Stored] or [the exception], once its group is written
        with self.cond:
            self.queue.append((row, out))
            while not out and self.writing:
                self.cond.wait()
            if out:
                return self._result(out)
            self.writing, group, self.queue = True, self.queue, []  # this caller writes the group, its own row in it
        try:
            self._write(group)
        finally:
            with self.cond:
                self.writing = False  # a waiter whose row is still queued leads the next group
                self.cond.notify_all()
        return self._result(out)

    @staticmethod
    def _result(out: list[Any]) -> Stored | None:
        if isinstance(out[0], BaseException):
            raise out[0]
        return out[0]

    def _write(self, group: list[tuple[dict[str, Any], list[Any]]]) -> None:
        try:
            new, stored = self._insert([row for row, _ in group])
        except Exception as exc:  # noqa: BLE001 - alone, each row gets its own outcome
            if len(group) > 1:
                for one in group:
                    self._write([one])
                return
            group[0][1].append(exc)  # no ack: Slack retries it
            return
        for row, out in group:
            out.append(None if id(row) in new else stored.get(row["key"], _UNSEEN))

    def _insert(self, rows: list[dict[str, Any]]) -> tuple[set[int], dict[str, Stored]]:
        """Insert the rows in one transaction: which row objects were new, and how the others are stored.

        A key written by another worker's transaction that this one cannot see yet has no state here,
        and counts as running.
        """
        first: dict[str, dict[str, Any]] = {}
        for row in rows:
            first.setdefault(row["key"], row)
        stored: dict[str, Stored] = {}
        with self.store.engine.begin() as conn:
            if self.insert is not None:
                stmt = self.insert(_T).on_conflict_do_nothing(index_elements=["key"]).returning(_T.c.key)
                keys = set(conn.scalars(stmt, list(first.values())))
            else:  # another engine: look first, then insert what is missing (same transaction)
                seen = set(conn.scalars(select(_T.c.key).where(_T.c.key.in_(list(first)))))
                keys = {k for k in first if k not in seen}
                if keys:
                    conn.execute(_T.insert(), [first[k] for k in keys])
            old = [k for k in first if k not in keys] + [r["key"] for r in rows if first[r["key"]] is not r]
            if old:
                for r in conn.execute(select(_T.c.key, _T.c.status, _T.c.attempts, _T.c.lease_until)
                                      .where(_T.c.key.in_(sorted(set(old))))):
                    stored[r.key] = Stored(r.status, r.attempts, r.lease_until)
        return {id(first[k]) for k in keys}, stored
