"""The explainable health score: a weighted scorecard from configs/health.yaml, over all accounts at once."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlalchemy import delete, insert

from core import figures
from core.errors import ConfigError
from core.lazy import lazy
from integrations.crm.models import HealthSnapshot
from integrations.crm.store import CRMStore
from tools.features import METRICS, compute_features
from tools.plain import scalar
from tools.results import Driver, Drivers

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

Columns = Mapping[str, Any]  # a frame, or column name -> values (stored rows read without pandas)
Row = Any  # one account's features: a frame's row (a Series) or a dict (`tools.score_view`)


class Signal(BaseModel):
    """One metric inside a component, scored 0 at `bad` and 1 at `good`."""

    metric: str
    bad: float
    good: float
    weight: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Signal:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; known: {', '.join(METRICS)}")
        if self.bad == self.good:
            raise ValueError(f"{self.metric}: bad and good must differ")
        return self


class Component(BaseModel):
    """A scorecard component: a weight and its signals."""

    label: str
    weight: float = Field(gt=0)
    signals: list[Signal]


class Scorecard(BaseModel):
    """The whole scorecard."""

    bands: dict[str, float]
    components: dict[str, Component]

    @model_validator(mode="after")
    def _check(self) -> Scorecard:
        if set(self.bands) != {"green", "yellow"} or self.bands["yellow"] >= self.bands["green"]:
            raise ValueError("bands must be {green: X, yellow: Y} with Y < X")
        return self

    def band(self, score: float) -> str:
        """The band of a score."""
        if score >= self.bands["green"]:
            return "green"
        return "yellow" if score >= self.bands["yellow"] else "red"


def load_scorecard(path: Path) -> Scorecard:
    """Read and validate a scorecard file."""
    try:
        return Scorecard.model_validate(yaml.safe_load(path.read_text()))
    except FileNotFoundError:
        raise ConfigError(f"Scorecard file {path} does not exist. Set health.config_file.") from None
    except (ValidationError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()
        raise ConfigError(f"Scorecard file {path} is invalid: {' '.join(first[:3])}") from None


def signal_scores(card: Scorecard, features: Columns) -> dict[tuple[str, str], np.ndarray]:
    """Each (component, metric) signal's 0..1 score per row; NaN where the metric is missing."""
    out = {}
    for cname, comp in card.components.items():
        for sig in comp.signals:
            x = np.asarray(features[sig.metric], dtype=float)
            out[(cname, sig.metric)] = np.clip((x - sig.bad) / (sig.good - sig.bad), 0.0, 1.0)
    return out


@dataclass
class Scores:
    """Scores of rows as plain arrays (no pandas): the arithmetic of `score`, shared by frames and stored rows."""

    score: np.ndarray  # total, rounded to 1 place
    band: list[str]
    components: dict[str, np.ndarray]  # component value 0..1, NaN when no data
    contributions: dict[str, np.ndarray]  # points each component adds, rounded to 1 place
    lost: dict[tuple[str, str], np.ndarray]  # points each signal costs (0 when perfect)
    signals: dict[tuple[str, str], np.ndarray]  # each signal's 0..1 score, NaN when its metric is missing


def score_arrays(card: Scorecard, features: Columns, n: int) -> Scores:
    """Score `n` rows given as columns (a frame, or a mapping of metric name to values), vectorised."""
    sig = signal_scores(card, features)
    comp_vals = {}
    for cname, comp in card.components.items():
        num = np.zeros(n)
        den = np.zeros(n)
        for s in comp.signals:
            v = sig[(cname, s.metric)]
            ok = ~np.isnan(v)
            num += np.where(ok, v * s.weight, 0.0)
            den += np.where(ok, s.weight, 0.0)
        comp_vals[cname] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    tw = np.zeros(n)  # the weight of the components with data, summed in the scorecard's order
    for cname, comp in card.components.items():
        tw = tw + np.where(np.isnan(comp_vals[cname]), 0.0, comp.weight)
    tw = np.where(tw == 0, np.nan, tw)
    contrib = {c: np.nan_to_num(comp_vals[c], nan=0.0) * comp.weight / tw * 100.0
               for c, comp in card.components.items()}
    total = np.zeros(n)
    for c in card.components:
        total = total + np.nan_to_num(contrib[c], nan=0.0)
    total = np.round(total, 1)
    lost: dict[tuple[str, str], np.ndarray] = {}
    for cname, comp in card.components.items():
        sig_w = np.zeros(n)
        for s in comp.signals:
            sig_w += np.where(np.isnan(sig[(cname, s.metric)]), 0.0, s.weight)
        for s in comp.signals:
            v = sig[(cname, s.metric)]
            share = np.where(np.isnan(v), 0.0, s.weight / np.where(sig_w > 0, sig_w, 1.0))
            lost[(cname, s.metric)] = np.nan_to_num(100.0 * comp.weight * share * (1 - v) / tw)
    return Scores(score=total, band=[card.band(float(x)) for x in total], components=comp_vals,
                  contributions={c: np.round(v, 1) for c, v in contrib.items()}, lost=lost, signals=sig)


@dataclass
class ScoreTable:
    """Scores for many accounts: total, band and each component's value and contribution."""

    score: pd.Series
    band: pd.Series
    components: pd.DataFrame  # component value 0..1, NaN when no data
    contributions: pd.DataFrame  # points each component adds to the score
    lost: dict[tuple[str, str], np.ndarray]  # points each signal costs (0 when perfect)
    signals: dict[tuple[str, str], np.ndarray]  # each signal's 0..1 score, NaN when its metric is missing


def score(card: Scorecard, features: pd.DataFrame) -> ScoreTable:
    """Score every row of `features` with the scorecard, vectorised."""
    s = score_arrays(card, features, len(features))
    idx = features.index
    return ScoreTable(score=pd.Series(s.score, index=idx), band=pd.Series(s.band, index=idx, dtype=str),
                      components=pd.DataFrame(s.components, index=idx),
                      contributions=pd.DataFrame(s.contributions, index=idx), lost=s.lost, signals=s.signals)


def _pct(x: float) -> str:
    return figures.percent(abs(x))


def describe(metric: str, row: Row) -> str:
    """One plain sentence for a metric of an account, with its numbers and dates."""
    v = row.get(metric)
    if metric == "usage_change_30d":
        word = "down" if v < 0 else "up"
        return (f"usage {word} {_pct(v)} in 30 days ({int(row['requests_30d']):,} requests vs "
                f"{int(row['requests_prior_30d']):,})")
    if metric == "seat_utilization":
        return f"{figures.percent(v)} of seats in use ({row['seats_used_7d']:.0f} of {int(row['seats'])})"
    if metric == "p95_ratio":
        text = (f"p95 latency {v:.1f}x a month earlier ({row['p95_now']:,.0f} ms vs "
                f"{row['p95_before']:,.0f} ms)")
        if isinstance(row.get("model_switched_on"), date):
            text += (f" since the switch from {row['model_before']} to {row['model_now']} on "
                     f"{row['model_switched_on'].isoformat()}")
        return text
    if metric == "error_rate":
        return f"error rate {figures.percent(v)} over 14 days"
    if metric == "eval_score":
        return f"latest fine-tune eval score {v:.2f}"
    if metric == "open_high_tickets":
        return f"{int(v)} high-priority ticket{'s' if v != 1 else ''} open"
    if metric == "tickets_30d":
        return f"{int(v)} ticket{'s' if v != 1 else ''} opened in 30 days"
    if metric == "nps":
        kind = "detractor" if v <= 6 else ("passive" if v <= 8 else "promoter")
        when = row.get("nps_date")
        on = f" on {when.isoformat()}" if isinstance(when, date) else ""
        return f"NPS {int(v)} ({kind}){on}"
    if metric == "note_tone":
        word = "negative" if v < -0.2 else ("positive" if v > 0.2 else "neutral")
        turn = row.get("tone_turn_on")
        if v < -0.2 and isinstance(turn, date):
            what = {"ticket": "a ticket", "nps": "a survey comment"}.get(str(row.get("tone_turn_kind")), "a note")
            quote = re.split(r"(?<=[.!?])\s", str(row.get("tone_turn_text") or "").strip())[0][:90]
            change = row.get("tone_change")
            if isinstance(change, float) and not math.isnan(change) and change <= -0.2:
                return f"tone turned negative after {what} on {turn.isoformat()}: “{quote}”"
            return f"notes, tickets and surveys sound negative (e.g. {what} on {turn.isoformat()}: “{quote}”)"
        return f"recent notes, tickets and surveys sound {word}"
    if metric == "onboarding_progress":
        return f"onboarding {figures.percent(v)} complete"
    if metric == "onboarding_overdue":
        if v and isinstance(row.get("first_overdue_due"), date):
            return (f"{int(v)} onboarding milestone{'s' if v != 1 else ''} overdue "
                    f"('{row['first_overdue_milestone']}' due {row['first_overdue_due'].isoformat()})")
        return "no onboarding milestones overdue"
    if metric == "champion_present":
        if v >= 1:
            return "champion in place"
        if isinstance(row.get("champion_left_on"), date):
            return f"champion {row['champion_left_name']} left on {row['champion_left_on'].isoformat()}"
        return "no champion identified"
    if metric == "days_since_touch":
        return f"last touch {int(v)} days ago"
    if metric == "days_to_renewal":
        rd = row.get("renewal_date")
        return f"renewal in {int(v)} days ({rd.isoformat() if isinstance(rd, date) else '?'})"
    return f"{metric} = {v}"


def drivers(card: Scorecard, table: ScoreTable, features: pd.DataFrame, account_id: int,
            top: int = 4) -> Drivers:
    """The signals costing an account the most points, and its strongest positives, in words."""
    pos = features.index.get_loc(account_id)
    return account_drivers(card, features.loc[account_id], {k: float(v[pos]) for k, v in table.signals.items()},
                           {k: float(v[pos]) for k, v in table.lost.items()}, top)


def account_drivers(card: Scorecard, row: Row, signals: Mapping[tuple[str, str], float],
                    lost: Mapping[tuple[str, str], float], top: int = 4) -> Drivers:
    """`drivers` of one account from its features row and its signals' scores and lost points."""
    neg_items: list[Driver] = []
    pos_items: list[Driver] = []
    for (cname, metric), points in lost.items():
        s = signals[(cname, metric)]
        if math.isnan(s):
            continue
        item: Driver = {"component": cname, "metric": metric, "value": scalar(row[metric]),
                "points_lost": round(points, 1), "text": describe(metric, row)}
        if s < 0.5 and points >= 0.5:
            neg_items.append(item)
        elif s >= 0.9:
            pos_items.append(item)
    neg_items.sort(key=lambda d: -d["points_lost"])
    weight = {c: comp.weight for c, comp in card.components.items()}
    pos_items.sort(key=lambda d: -weight[d["component"]])
    return {"negative": neg_items[:top], "positive": pos_items[:top]}


@dataclass
class PortfolioHealth:
    """Features and scores of a portfolio as of a date, with the score 30 days earlier."""

    as_of: date
    card: Scorecard
    features: pd.DataFrame
    table: ScoreTable
    previous: pd.Series  # score 30 days earlier

    def frame(self) -> pd.DataFrame:
        """One row per account with the headline columns."""
        out = self.features[["name", "segment", "arr", "owner_id", "renewal_date",
                             "days_to_renewal", "lifecycle_stage"]].copy()
        out["score"] = self.table.score
        out["band"] = self.table.band
        out["score_30d_ago"] = self.previous.reindex(out.index)
        out["trend"] = (out["score"] - out["score_30d_ago"]).round(1)
        return out


def score_portfolio(store: CRMStore, card: Scorecard, as_of: date,
                    account_ids: list[int] | None = None) -> PortfolioHealth:
    """Score the live accounts as of a date, with the trend against 30 days earlier."""
    feats = compute_features(store, as_of, account_ids)
    table = score(card, feats)
    before = compute_features(store, as_of - pd.Timedelta(days=30).to_pytimedelta(), account_ids)
    prev = score(card, before).score if not before.empty else pd.Series(dtype=float)
    return PortfolioHealth(as_of=as_of, card=card, features=feats, table=table, previous=prev)


def save_snapshots(store: CRMStore, health: PortfolioHealth) -> int:
    """Keep today's scores as daily snapshots (replacing any taken earlier the same day)."""
    rows = [
        {"account_id": int(aid), "day": health.as_of, "score": float(health.table.score[aid]),
         "band": str(health.table.band[aid]),
         "components": {k: (None if pd.isna(v) else round(float(v), 4))
                        for k, v in health.table.components.loc[aid].items()}}
        for aid in health.features.index
    ]
    with store.session() as s:
        s.execute(delete(HealthSnapshot).where(HealthSnapshot.day == health.as_of))
        if rows:
            s.execute(insert(HealthSnapshot), rows)
    return len(rows)


def weekly_scores(store: CRMStore, card: Scorecard, as_of: date, account_id: int,
                  weeks: int = 13) -> tuple[list[date], list[float]]:
    """An account's health score each week over the last `weeks` weeks (for the trend chart)."""
    days, scores = [], []
    for k in range(weeks, -1, -1):
        day = as_of - timedelta(days=7 * k)
        feats = compute_features(store, day, [account_id])
        if feats.empty:
            continue
        days.append(day)
        scores.append(float(score(card, feats).score.iloc[0]))
    return days, scores
