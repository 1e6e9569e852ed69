"""One day's scores read per account or per column, from frames or straight from a stored run without pandas.

A health question or a briefing reads a few accounts' scores, drivers and features. Decoding the day's
stored run into pandas frames costs more than answering (importing pandas alone is about 0.3 CPU s of a
cold `retain ask`), so `ArrowView` reads the stored Arrow IPC with pyarrow alone: column values come
through `to_pylist` (pyarrow's `to_numpy` imports pandas), and the scores are `tools.health.score_arrays`,
the arithmetic the frames use. `FrameView` gives the same answers from frames a process already holds.
Both give every value as the frame `tools.scores.from_arrow` would hold it (tests/unit/test_score_view.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tools.health import PortfolioHealth, Scorecard, Scores, account_drivers, score_arrays
from tools.results import Drivers

if TYPE_CHECKING:
    import pyarrow as pa

GAPS = b"retain.gaps"  # schema metadata: how each text/date column marks a gap (None or NaN)


class ScoreView:
    """Features and scores of the live accounts on one day, read per account (`value`, `row`) or per `column`."""

    def __init__(self, card: Scorecard, ids: Sequence[int], scores: Scores, previous: dict[int, float]) -> None:
        """`ids` in the order of the columns; `previous` is each account's score 30 days earlier."""
        self.card = card
        self.ids = [int(a) for a in ids]
        self._pos = {a: k for k, a in enumerate(self.ids)}
        self.scores = scores
        self._previous = previous

    def __contains__(self, account_id: object) -> bool:
        return account_id in self._pos

    def pos(self, account_id: int) -> int:
        """The account's position in the columns (KeyError for an account not live that day)."""
        return self._pos[account_id]

    def column(self, name: str) -> Sequence[Any]:
        """A features column, one value per account of `ids`."""
        raise NotImplementedError

    def value(self, account_id: int, name: str) -> Any:
        """One feature of an account, as its frame holds it (NaN or None for a gap)."""
        return self.column(name)[self._pos[account_id]]

    def numbers(self, names: Sequence[str], account_ids: Sequence[int]) -> dict[str, np.ndarray]:
        """Numeric features of some accounts as float arrays (NaN for a gap), in the order of `account_ids`."""
        at = [self._pos[a] for a in account_ids]
        return {n: np.asarray(self.column(n), dtype=float)[at] for n in names}

    def row(self, account_id: int) -> Any:
        """Every feature of an account (what `tools.health.describe` reads)."""
        raise NotImplementedError

    def score(self, account_id: int) -> float:
        """The account's health score (0-100, one decimal)."""
        return float(self.scores.score[self._pos[account_id]])

    def band(self, account_id: int) -> str:
        """green, yellow or red."""
        return self.scores.band[self._pos[account_id]]

    def component(self, account_id: int, name: str) -> float:
        """A component's value 0..1 (NaN when the account has no data for it)."""
        return float(self.scores.components[name][self._pos[account_id]])

    def contribution(self, account_id: int, name: str) -> float:
        """The points a component adds to the account's score."""
        return float(self.scores.contributions[name][self._pos[account_id]])

    def previous(self, account_id: int) -> float:
        """The account's score 30 days earlier (NaN when it had none)."""
        return self._previous.get(account_id, math.nan)

    def drivers(self, account_id: int, top: int = 4) -> Drivers:
        """The signals costing the account the most points, and its strongest positives (`tools.health.drivers`)."""
        p = self._pos[account_id]
        return account_drivers(self.card, self.row(account_id),
                               {k: float(v[p]) for k, v in self.scores.signals.items()},
                               {k: float(v[p]) for k, v in self.scores.lost.items()}, top)


class FrameView(ScoreView):
    """A view of scores a process already holds as frames."""

    def __init__(self, health: PortfolioHealth) -> None:  # noqa: D107 - the frames viewed
        t = health.table
        scores = Scores(score=t.score.to_numpy(), band=[str(b) for b in t.band],
                        components={c: t.components[c].to_numpy() for c in t.components.columns},
                        contributions={c: t.contributions[c].to_numpy() for c in t.contributions.columns},
                        lost=t.lost, signals=t.signals)
        super().__init__(health.card, health.features.index.tolist(), scores,
                         {int(a): float(s) for a, s in health.previous.items()})
        self.health = health
        self._columns: dict[str, Any] = {}

    def column(self, name: str) -> Sequence[Any]:  # noqa: D102 - as ScoreView
        if name not in self._columns:
            self._columns[name] = self.health.features[name].to_numpy()
        return self._columns[name]

    def row(self, account_id: int) -> Any:  # noqa: D102 - as ScoreView
        return self.health.features.iloc[self.pos(account_id)]


class ArrowView(ScoreView):
    """A view of a stored run's Arrow tables (features, and the scores 30 days earlier), read without pandas."""

    def __init__(self, card: Scorecard, features: pa.Table, previous: pa.Table) -> None:
        """Tables as `tools.scores.to_arrow` wrote them (the frame's index stored as a column)."""
        self._table = features
        meta = features.schema.metadata or {}
        index = json.loads(meta.get(b"pandas", b"{}")).get("index_columns") or []
        if len(index) != 1 or not isinstance(index[0], str):
            raise ValueError("the stored features carry no account id column")
        self._index = index[0]
        self._gaps: dict[str, str] = json.loads(meta.get(GAPS, b"{}"))
        self._columns: dict[str, Any] = {}
        ids = _pylist(features, self._index)
        n = len(ids)
        self.names = [c for c in features.column_names if c != self._index]
        metrics = {s.metric for comp in card.components.values() for s in comp.signals}
        scores = score_arrays(card, {m: self.column(m) for m in metrics}, n)
        prev_index = json.loads((previous.schema.metadata or {}).get(b"pandas", b"{}")).get("index_columns") or []
        before = dict(zip(_pylist(previous, prev_index[0]), self._convert(previous, "score"), strict=True)) \
            if len(prev_index) == 1 and isinstance(prev_index[0], str) else {}
        super().__init__(card, ids, scores, {int(a): float(s) for a, s in before.items()})

    def column(self, name: str) -> Sequence[Any]:  # noqa: D102 - as ScoreView
        if name not in self._columns:
            self._columns[name] = self._convert(self._table, name)
        return self._columns[name]

    def row(self, account_id: int) -> dict[str, Any]:  # noqa: D102 - as ScoreView
        raw = self._table.slice(self.pos(account_id), 1).to_pylist()[0]
        return {c: self._cell(self._table, c, raw[c]) for c in self.names}

    def _convert(self, table: pa.Table, name: str) -> Any:
        """A whole column as the frame holds it: numbers as numpy arrays, text and dates as a list."""
        values = _pylist(table, name)
        mode = _mode(table, name)
        if mode == "float":
            return np.array([math.nan if v is None else v for v in values], dtype=float)
        if mode == "int":
            return np.array(values, dtype=np.int64)
        return [self._cell(table, name, v) for v in values]

    def _cell(self, table: pa.Table, name: str, v: Any) -> Any:
        """One value as `from_arrow`'s frame holds it: the recorded gap for object columns, NaN for text."""
        mode = _mode(table, name)
        if mode == "float":
            return np.float64(math.nan if v is None else v)
        if mode == "int":
            return np.int64(v)
        if v is not None:
            return v
        if name in self._gaps:
            return math.nan if self._gaps[name] == "nan" else None
        return math.nan  # pandas' text columns mark a gap with NaN


def _mode(table: pa.Table, name: str) -> str:
    """How pandas holds a column: float (NaN for a gap), int (no gaps) or objects."""
    kind = str(table.schema.field(name).type)
    if kind in ("double", "float", "halffloat"):
        return "float"
    if kind in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        return "int" if table.column(name).null_count == 0 else "float"  # an integer column with gaps is float
    return "object"


def _pylist(table: pa.Table, name: str) -> list[Any]:
    """A column's values as Python objects (`to_numpy` would import pandas)."""
    return [v for chunk in table.column(name).chunks for v in chunk.to_pylist()]
