"""Outliving a database restart: which errors a retry can fix, and a call retried with backoff until it works.

A PostgreSQL restart or failover breaks every open connection and refuses new ones for a while;
SQLAlchemy raises OperationalError (or InterfaceError, or a pool timeout) until the server is back,
and `pool_pre_ping` replaces the dead connections then. Loops that talk to the database catch
these, wait (`core.backoff.Backoff`) and go on; they never end on one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg_pool import PoolTimeout
from sqlalchemy import exc as sa_exc

from core.backoff import Backoff

_PSYCOPG = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)
log = logging.getLogger("retain.db")
T = TypeVar("T")


def lost_connection(exc: BaseException) -> bool:
    """True for a database that is unreachable or went away (restart, failover, pool exhausted), not a bad query.

    SQLAlchemy's errors, and psycopg's own (the checkpoint saver talks to PostgreSQL without SQLAlchemy).
    """
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    return isinstance(exc, _PSYCOPG)


def lost_connection_in(exc: BaseException) -> bool:
    """True when `exc` or an error it was raised from (a few levels) is a lost database connection."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if lost_connection(seen):
            return True
        seen = getattr(seen, "cause", None) or seen.__cause__ or seen.__context__
    return False


def until_done(fn: Callable[[], T], what: str, stop: threading.Event | None = None, cap: float = 10.0) -> T:
    """`fn()`, retried with backoff while the database is unreachable; other errors are raised at once.

    Logs one warning when the database is first found gone and one line when it is back. With `stop`
    set, the wait ends and the last error is raised (shutting down never hangs on a dead database).
    """
    backoff = Backoff(0.2, cap)
    while True:
        try:
            out = fn()
        except Exception as exc:
            if not lost_connection_in(exc) or (stop is not None and stop.is_set()):
                raise
            delay = backoff.failed()
            if backoff.failures == 1:
                log.warning("database unreachable while %s (%s); retrying with backoff", what, type(exc).__name__)
            if stop is not None:
                stop.wait(delay)
            else:
                threading.Event().wait(delay)
            continue
        if backoff.ok():
            log.warning("database back: %s done", what)
        return out
