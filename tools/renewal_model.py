"""Renewal-risk model: P(renew) = sigmoid(b0 + sum(bi * Xi)) fitted on past renewals.

Each past renewal stores the account's features 90 days before it. The fit is a logistic
regression on standardised features; the backtest holds out the most recent renewals (a time
split, as the model would be used) and compares the model's ROC AUC with the scorecard's.
The model is saved as JSON (coefficients, scaling, metrics), never pickled.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
from sqlalchemy import select

from core.errors import RetainError
from core.lazy import lazy
from integrations.crm.models import RenewalEvent
from integrations.crm.store import CRMStore
from tools.health import Scorecard, score
from tools.results import RenewalDriver

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

FEATURES = [
    "usage_change_30d", "seat_utilization", "p95_ratio", "error_rate", "open_high_tickets",
    "tickets_30d", "nps", "note_tone", "champion_present", "days_since_touch",
]
Columns = Mapping[str, Any]  # a frame, or feature name -> values (`ScoreView.numbers`)
MIN_EVENTS = 40
MIN_PER_CLASS = 8


class ThinHistory(RetainError):
    """Too few past renewals to fit a model; the scorecard alone is used."""


class CalibrationBin(TypedDict):
    """Predicted against observed renewal rate in one probability bin."""

    bin: str  # "0.6-0.8"
    n: int
    predicted: float
    observed: float


class ModelMetrics(TypedDict, total=False):
    """How a fitted model backtested on the newest renewals (empty before the backtest)."""

    n_events: int
    n_lost: int
    n_train: int
    n_test: int
    test_from: str
    test_to: str
    auc: float
    brier: float
    scorecard_auc: float
    base_rate: float
    calibration: list[CalibrationBin]
    fitted_at: str


class ModelJSON(TypedDict):
    """A model as saved (`renewal_model.json`)."""

    kind: str
    features: list[str]
    intercept: float
    coefficients: dict[str, float]
    means: dict[str, float]
    scales: dict[str, float]
    metrics: ModelMetrics


@dataclass
class RenewalModel:
    """A fitted model: intercept, coefficients on standardised features, and how it scored."""

    intercept: float
    coefficients: dict[str, float]
    means: dict[str, float]
    scales: dict[str, float]
    metrics: ModelMetrics

    def _z(self, features: Columns) -> np.ndarray:
        cols = []
        for f in FEATURES:
            x = np.asarray(features[f], dtype=float)
            x = np.where(np.isnan(x), self.means[f], x)
            cols.append((x - self.means[f]) / self.scales[f])
        return np.column_stack(cols)

    def predict(self, features: Columns) -> np.ndarray:
        """P(renew) for each row."""
        b = np.array([self.coefficients[f] for f in FEATURES])
        return 1.0 / (1.0 + np.exp(-(self.intercept + self._z(features) @ b)))

    def drivers(self, features: Columns, top: int = 3) -> list[list[RenewalDriver]]:
        """Per row, the features pulling P(renew) down the most (coefficient x standardised value)."""
        b = np.array([self.coefficients[f] for f in FEATURES])
        contrib = self._z(features) * b
        out: list[list[RenewalDriver]] = []
        for r in range(contrib.shape[0]):
            order = np.argsort(contrib[r])
            out.append([{"feature": FEATURES[k], "effect": round(float(contrib[r, k]), 2)}
                        for k in order[:top] if contrib[r, k] < 0])
        return out

    def to_json(self) -> ModelJSON:
        """The model as plain JSON."""
        return {"kind": "logistic_regression", "features": FEATURES, "intercept": self.intercept,
                "coefficients": self.coefficients, "means": self.means, "scales": self.scales,
                "metrics": self.metrics}

    @classmethod
    def from_json(cls, data: ModelJSON) -> RenewalModel:
        """Rebuild a saved model."""
        return cls(intercept=data["intercept"], coefficients=data["coefficients"],
                   means=data["means"], scales=data["scales"], metrics=data["metrics"])


def history(store: CRMStore) -> pd.DataFrame:
    """Past renewals with their features and a 0/1 `renewed` (churned = 0)."""
    with store.session() as s:
        rows = s.execute(select(RenewalEvent.account_id, RenewalEvent.renewal_date,
                                RenewalEvent.outcome, RenewalEvent.features)).all()
    recs = []
    for aid, when, outcome, feats in rows:
        feats = json.loads(feats) if isinstance(feats, str) else dict(feats or {})
        recs.append({"account_id": aid, "renewal_date": when, "outcome": outcome,
                     "renewed": 0 if outcome in ("churned", "contracted") else 1,
                     **{k: (math.nan if v is None else v) for k, v in feats.items()}})
    df = pd.DataFrame(recs)
    for f in FEATURES:
        if f not in df:
            df[f] = math.nan
    return df.sort_values("renewal_date").reset_index(drop=True) if not df.empty else df


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 5) -> list[CalibrationBin]:
    """Predicted against observed renewal rate, in equal-width probability bins."""
    edges = np.linspace(0, 1, bins + 1)
    out: list[CalibrationBin] = []
    for k in range(bins):
        m = (p >= edges[k]) & ((p < edges[k + 1]) if k < bins - 1 else (p <= 1))
        if m.sum():
            out.append({"bin": f"{edges[k]:.1f}-{edges[k + 1]:.1f}", "n": int(m.sum()),
                        "predicted": round(float(p[m].mean()), 3),
                        "observed": round(float(y[m].mean()), 3)})
    return out


def fit(store: CRMStore, card: Scorecard, holdout: float = 0.3) -> RenewalModel:
    """Fit on the older renewals, backtest on the newest, then refit on all of them."""
    df = history(store)
    n = len(df)
    lost = int((df["renewed"] == 0).sum()) if n else 0
    if n < MIN_EVENTS or lost < MIN_PER_CLASS or n - lost < MIN_PER_CLASS:
        raise ThinHistory(
            f"Renewal history is too thin to fit a model ({n} renewals, {lost} lost; need at "
            f"least {MIN_EVENTS} with {MIN_PER_CLASS} of each outcome). The scorecard alone is used."
        )
    cut = int(n * (1 - holdout))
    train, test = df.iloc[:cut], df.iloc[cut:]
    if test["renewed"].nunique() < 2:
        raise ThinHistory("The held-out renewals all have one outcome; the backtest cannot run. "
                          "The scorecard alone is used.")
    from sklearn.metrics import brier_score_loss, roc_auc_score  # only when fitting: slow to import

    m_train = _fit_frame(train)
    p_test = m_train.predict(test)
    y_test = test["renewed"].to_numpy()
    sc = test.copy()
    for col in ("onboarding_progress", "onboarding_overdue", "eval_score", "days_to_renewal"):
        if col not in sc:
            sc[col] = math.nan
    card_score = score(card, sc).score.to_numpy() / 100.0
    metrics: ModelMetrics = {
        "n_events": n, "n_lost": lost, "n_train": len(train), "n_test": len(test),
        "test_from": str(test["renewal_date"].iloc[0]), "test_to": str(test["renewal_date"].iloc[-1]),
        "auc": round(float(roc_auc_score(y_test, p_test)), 4),
        "brier": round(float(brier_score_loss(y_test, p_test)), 4),
        "scorecard_auc": round(float(roc_auc_score(y_test, card_score)), 4),
        "base_rate": round(float(y_test.mean()), 4),
        "calibration": calibration_table(y_test, p_test),
    }
    model = _fit_frame(df)
    model.metrics = metrics | {"fitted_at": datetime.now(UTC).isoformat(timespec="seconds")}
    return model


def _fit_frame(df: pd.DataFrame) -> RenewalModel:
    X = df[FEATURES].astype(float)
    means = X.mean().fillna(0.0)
    scales = X.std(ddof=0).replace(0, 1.0).fillna(1.0)
    Z = ((X.fillna(means) - means) / scales).to_numpy()
    from sklearn.linear_model import LogisticRegression  # only when fitting: slow to import

    lr = LogisticRegression(C=1.0, max_iter=1000)
    lr.fit(Z, df["renewed"].to_numpy())
    return RenewalModel(
        intercept=float(lr.intercept_[0]),
        coefficients={f: round(float(c), 4) for f, c in zip(FEATURES, lr.coef_[0], strict=True)},
        means={f: float(means[f]) for f in FEATURES},
        scales={f: float(scales[f]) for f in FEATURES}, metrics={},
    )


def save(model: RenewalModel, path: Path) -> None:
    """Write the model atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(model.to_json(), indent=2))
    tmp.replace(path)


def load(path: Path) -> RenewalModel | None:
    """The saved model, or None when none was fitted."""
    if not path.exists():
        return None
    return RenewalModel.from_json(json.loads(path.read_text()))
