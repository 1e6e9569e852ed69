"""What a CRM connector's adapter hands the sync: records, one page at a time, and its errors.

An adapter (HubSpot, Salesforce) knows its API: paging, the modification-time filter, rate limits
and auth. It yields pages of `Record`s sorted by modification time, so the sync can commit a page
together with its checkpoint (the last record's modification time) and a run that fails mid-way
resumes at the page it did not commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.errors import RetainError, mask_secrets


@dataclass
class Record:
    """One CRM record: its id, when it last changed (ISO-8601, UTC), its fields and its company."""

    id: str
    modified: str
    values: dict[str, Any]
    company: str | None = None  # the associated company (HubSpot); Salesforce records name AccountId


@dataclass
class ObjectQuery:
    """What to read of one CRM object."""

    object: str  # companies / Account ...
    fields: list[str]  # the source fields the mapping needs (Salesforce: dotted relationship paths)
    modified: str  # the modification-time field the query filters and sorts on
    where: list[Any] = field(default_factory=list)  # extra filters: HubSpot filter objects, SOQL conditions
    associate: str | None = None  # HubSpot: also read the associated object of this type (companies)


class SourceError(RetainError):
    """The CRM refused or failed a call; the message says what to do and never carries a credential."""


class AuthError(SourceError):
    """The CRM rejected the credentials (401/403): nothing more is read until they are fixed."""


class LimitReached(SourceError):
    """The CRM's API allowance is used up (or past the configured share): stop now, resume next run."""


class Source(Protocol):
    """A CRM adapter."""

    name: str

    def pages(self, q: ObjectQuery, since: str | None, page_size: int) -> Iterator[list[Record]]:
        """Records changed at or after `since` (all when None), oldest first, a page at a time."""
        ...

    def children(self, q: ObjectQuery, company_ids: list[str], page_size: int) -> Iterator[list[Record]]:
        """Every record of `q.object` belonging to these companies, whenever it changed."""
        ...

    def owners(self) -> dict[str, dict[str, str]]:
        """Owner id -> {email, name} (for owner fields that hold an id)."""
        ...


class Adapter:
    """What both adapters share: a call retried as the CRM's errors allow, then explained in one error."""

    sleep: Callable[[float], None] | None = None
    calls = 0

    def _retry_after(self, exc: Exception) -> float | None:  # pragma: no cover - each adapter has its own
        return None

    def _explain(self, what: str, exc: Exception) -> Exception:  # pragma: no cover - each adapter has its own
        return SourceError(f"{what} failed ({type(exc).__name__}).")

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        kw: dict[str, Any] = {"retry_after": self._retry_after}
        if self.sleep is not None:
            kw["sleep"] = self.sleep
        try:
            self.calls += 1
            return with_retries(fn, **kw)
        except Exception as exc:
            err = self._explain(what, exc)
            err.args = (mask_secrets(str(err)),)  # it quotes the server, which may echo the credentials sent
            raise err from None


def with_retries(call: Callable[[], Any], *, retry_after: Callable[[Exception], float | None],
                 attempts: int = 6, sleep: Callable[[float], None] = time.sleep) -> Any:
    """Run `call`; when `retry_after(exc)` says how long to wait (a 429, a 5xx), wait and try again.

    `retry_after` returns None for errors that are not worth retrying (they propagate at once). The
    wait is what the server asked for (Retry-After), else an exponential back-off capped at 30 s.
    """
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - the classifier decides, the rest propagates
            wait = retry_after(exc)
            if wait is None or attempt == attempts - 1:
                raise
            sleep(wait if wait > 0 else min(30.0, 0.5 * 2 ** attempt))
    raise AssertionError("unreachable")
