"""The demo's latent model: each account's health drives its features and its true renewal odds."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np


def sigmoid(x: Any) -> Any:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Portfolio:
    """The rows of a generated portfolio, table by table, ready for bulk insert.

    Most tables are lists of rows; a big one (telemetry: 180 rows per account) is a stream, a function
    that yields its rows chunk by chunk when the writer asks, so 100,000 accounts never hold 18
    million tuples at once.
    """

    anchor: date
    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)
    latent: dict[str, float] = field(default_factory=dict)  # each account's latent health (benchmarks' truth)
    streams: dict[str, Callable[[], Iterable[list[tuple[Any, ...]]]]] = field(default_factory=dict)

    def add(self, table: str, columns: Sequence[str], row: tuple[Any, ...]) -> None:
        """Append one row to a table."""
        self.columns.setdefault(table, list(columns))
        self.tables.setdefault(table, []).append(row)

    def stream(self, table: str, columns: Sequence[str], chunks: Callable[[], Iterable[list[tuple[Any, ...]]]]) -> None:
        """A table whose rows `chunks()` yields in lists, generated when written."""
        self.columns[table] = list(columns)
        self.streams[table] = chunks

    def chunks(self, table: str) -> Iterable[list[tuple[Any, ...]]]:
        """A table's rows in lists: the stream's chunks, or the whole list at once."""
        if table in self.streams:
            yield from self.streams[table]()
        elif self.tables.get(table):
            yield self.tables[table]


def features_from_health(h: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw scorecard metrics for accounts of latent health `h`."""
    n = len(h)
    return {
        "usage_change_30d": np.clip(0.12 * h + rng.normal(0, 0.08, n), -0.8, 1.5),
        "seat_utilization": np.clip(sigmoid(0.7 + 0.8 * h + rng.normal(0, 0.5, n)), 0.05, 1.0),
        "p95_ratio": np.clip(np.exp(-0.12 * h + rng.normal(0, 0.12, n)), 0.5, 3.0),
        "error_rate": np.clip(0.008 * np.exp(-0.45 * h + rng.normal(0, 0.3, n)), 0.0005, 0.2),
        "eval_score": np.full(n, np.nan),
        "open_high_tickets": rng.poisson(np.exp(-0.6 - 0.6 * h)).astype(float),
        "tickets_30d": rng.poisson(np.exp(0.3 - 0.45 * h)).astype(float),
        "nps": np.clip(np.round(7.4 + 1.5 * h + rng.normal(0, 1.2, n)), 0, 10),
        "note_tone": np.clip(np.tanh(0.6 * h + rng.normal(0, 0.4, n)), -1, 1),
        "onboarding_progress": np.ones(n),
        "onboarding_overdue": np.zeros(n),
        "champion_present": (rng.random(n) < sigmoid(1.4 + 1.3 * h)).astype(float),
        "days_since_touch": np.clip(np.round(np.exp(2.6 - 0.35 * h + rng.normal(0, 0.5, n))), 1, 120),
        "days_to_renewal": np.full(n, 90.0),
    }


def true_renewal_logit(f: dict[str, np.ndarray]) -> np.ndarray:
    """The generator's ground truth: log-odds of renewing given the features 90 days before."""
    return (
        2.6
        + 5.0 * f["usage_change_30d"]
        + 3.0 * (f["champion_present"] - 0.8)
        + 0.2 * (f["nps"] - 7.0)
        + 2.2 * (f["seat_utilization"] - 0.65)
        - 120.0 * (f["error_rate"] - 0.01)
        - 0.5 * (f["open_high_tickets"] - 0.5)
        - 1.2 * (f["p95_ratio"] - 1.0)
    )


def next_anniversary(start: date, anchor: date) -> date:
    """The first anniversary of `start` on or after `anchor`."""
    years = max(1, anchor.year - start.year)
    while True:
        d = years_after(start, years)
        if d > anchor:
            return d
        years += 1


def years_after(d: date, years: int) -> date:
    """The same day `years` later (Feb 29 becomes Feb 28)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def years_before(d: date, years: int) -> date:
    """The same day `years` earlier."""
    return years_after(d, -years)
