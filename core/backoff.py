"""Waiting between retries: a delay that doubles after each failure up to a cap, and resets on success.

Every loop that talks to the database (or restarts a process) waits this way after a failure, so a
database restart or failover is outlived instead of ending the loop, and an outage that lasts costs
one attempt every `cap` seconds, not one per tick.
"""

from __future__ import annotations

import random


class Backoff:
    """The next wait after a failure: `first`, doubled each time, at most `cap`, with a little jitter."""

    def __init__(self, first: float = 0.5, cap: float = 30.0):
        """Start at `first` seconds; never wait longer than `cap`."""
        self.first, self.cap = first, cap
        self.failures = 0

    @property
    def failing(self) -> bool:
        """True after a failure, until the next success."""
        return self.failures > 0

    def failed(self) -> float:
        """Count a failure; the seconds to wait before the next attempt."""
        self.failures += 1
        delay = min(self.cap, self.first * 2 ** (self.failures - 1))
        return delay * random.uniform(0.8, 1.0)  # noqa: S311 - jitter, not security: workers do not retry in step

    def ok(self) -> bool:
        """Count a success; True when it ends a run of failures (worth a log line)."""
        ended, self.failures = self.failures > 0, 0
        return ended
