"""The row schemas of the product kinds (telemetry, requests, fine_tunes, plans, milestones, renewals).

What a row must hold and how loose spellings are read (`1.2%`, `$1,200`, `completed`, epoch seconds);
`tools.product_import` validates files against them and writes what they hold.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from integrations.crm.cells import CleanRow, check_finite, check_text
from integrations.crm.rows import _date


def _datetime(v: Any) -> Any:
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        try:
            return datetime.fromisoformat(s.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            try:
                return float(s)  # epoch seconds
            except ValueError:
                raise ValueError(f"'{s}' is not a timestamp (use ISO 8601, e.g. 2026-11-02T14:03:11Z)") from None
    return v


def _share(v: Any) -> Any:
    """0.012, '1.2%' -> 0.012."""
    if isinstance(v, str) and v.strip().endswith("%"):
        return float(v.strip()[:-1].replace(",", "")) / 100
    return v


def _number(v: Any) -> Any:
    if isinstance(v, str):
        return v.replace(",", "").replace("$", "").strip() or None
    return v


class TelemetryRow(CleanRow):
    """One account's use of the product on one day."""

    account_external_id: str = Field(min_length=1)
    day: date
    api_requests: int = Field(ge=0)
    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    active_users: int = Field(0, ge=0)
    seats_used: int | None = Field(None, ge=0)
    p50_latency_ms: float = Field(ge=0)
    p95_latency_ms: float = Field(ge=0)
    error_rate: float = Field(0.0, ge=0, le=1)
    spend: float = Field(0.0, ge=0)
    model_name: str = Field(min_length=1)
    model_version: str = ""

    _d = field_validator("day", mode="before")(_date)
    _s = field_validator("error_rate", mode="before")(_share)
    _n = field_validator("api_requests", "input_tokens", "output_tokens", "spend", "active_users",
                         "p50_latency_ms", "p95_latency_ms", mode="before")(_number)

    @field_validator("model_version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        return "" if v is None else str(v)

    @model_validator(mode="after")
    def _check(self) -> TelemetryRow:
        if self.p95_latency_ms < self.p50_latency_ms:
            raise ValueError(f"p95_latency_ms {self.p95_latency_ms:g} is below p50_latency_ms {self.p50_latency_ms:g}")
        if self.seats_used is None:
            self.seats_used = self.active_users
        return self


class RequestRow(CleanRow):
    """One API request as the vendor's metering logs it."""

    account_external_id: str = Field(min_length=1)
    timestamp: datetime
    user_id: str | None = None
    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    latency_ms: float = Field(ge=0)
    error: bool = False
    cost: float = Field(0.0, ge=0)
    model_name: str = Field(min_length=1)
    model_version: str = ""

    _n = field_validator("input_tokens", "output_tokens", "latency_ms", "cost", mode="before")(_number)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _ts(cls, v: Any) -> Any:
        v = _datetime(v)
        if isinstance(v, int | float):
            try:
                return datetime.utcfromtimestamp(v)
            except (OverflowError, OSError, ValueError):
                raise ValueError(f"{v:g} is not a timestamp (epoch seconds, or ISO 8601)") from None
        return v

    @field_validator("error", mode="before")
    @classmethod
    def _error(cls, v: Any) -> Any:
        """true/false/yes/no/1/0, or an HTTP status (>= 400 is an error)."""
        if v is None or v == "":
            return False
        s = str(v).strip().lower()
        if s.isdigit() and len(s) == 3:
            return int(s) >= 400
        if s in ("1", "true", "yes", "y", "error", "failed"):
            return True
        if s in ("0", "false", "no", "n", "ok", "success"):
            return False
        raise ValueError(f"'{v}' is not an error flag (true/false, or an HTTP status)")

    @field_validator("model_version", "user_id", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return None if v is None else str(v)


class FineTuneRow(CleanRow):
    """A fine-tuning job."""

    model_config = {"extra": "allow"}
    external_id: str = Field(min_length=1)
    account_external_id: str = Field(min_length=1)
    created_on: date
    status: Literal["succeeded", "failed", "running"]
    base_model: str = Field(min_length=1)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    loss_start: float | None = Field(None, allow_inf_nan=True)
    loss_min: float | None = Field(None, allow_inf_nan=True)
    loss_final: float | None = Field(None, allow_inf_nan=True)  # NaN when the run diverged (never infinite)
    loss_summary: str | None = None
    eval_score: float | None = None

    @field_validator("loss_start", "loss_min", "loss_final", mode="after")
    @classmethod
    def _not_infinite(cls, v: float | None) -> float | None:
        if v is not None and math.isinf(v):
            raise ValueError(f"{v} is not a finite number (NaN for a diverged run)")
        return v

    _d = field_validator("created_on", mode="before")(_date)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> Any:
        s = str(v or "").strip().lower()
        return {"completed": "succeeded", "success": "succeeded", "done": "succeeded", "cancelled": "failed",
                "canceled": "failed", "error": "failed", "queued": "running", "validating_files": "running",
                "in_progress": "running"}.get(s, s)

    @field_validator("hyperparameters", mode="before")
    @classmethod
    def _hp(cls, v: Any) -> Any:
        if v is None or v == "":
            return {}
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except json.JSONDecodeError:
                raise ValueError('hyperparameters is not JSON (e.g. {"learning_rate": 2e-5, "epochs": 3})') from None
        return check_finite(v)

    @model_validator(mode="after")
    def _hp_columns(self) -> FineTuneRow:
        """`hp_learning_rate`, `hp_epochs`, ... columns join the hyperparameters."""
        for k, v in (self.model_extra or {}).items():
            if k.startswith("hp_") and v not in (None, ""):
                try:
                    num = float(v)
                except (TypeError, ValueError):
                    self.hyperparameters[k[3:]] = check_text(v)
                    continue
                if not math.isfinite(num):
                    raise ValueError(f"{k}: {v} is not a finite number")
                self.hyperparameters[k[3:]] = int(num) if num.is_integer() and "." not in str(v) else num
        return self


class PlanRow(CleanRow):
    """An onboarding plan."""

    external_id: str = Field(min_length=1)
    account_external_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    started_on: date
    target_date: date
    status: Literal["active", "completed"] = "active"

    _d = field_validator("started_on", "target_date", mode="before")(_date)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> Any:
        s = str(v or "active").strip().lower()
        return {"done": "completed", "complete": "completed", "in progress": "active", "open": "active"}.get(s, s)


class MilestoneRow(CleanRow):
    """A step of an onboarding plan."""

    external_id: str = Field(min_length=1)
    plan_external_id: str = Field(min_length=1)
    seq: int = Field(ge=0)
    name: str = Field(min_length=1)
    owner: str = "CSM"
    due_date: date
    completed_date: date | None = None
    status: Literal["pending", "in_progress", "blocked", "done"] = "pending"
    updated_on: date | None = None

    _d = field_validator("due_date", "completed_date", "updated_on", mode="before")(_date)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> Any:
        s = str(v or "pending").strip().lower().replace(" ", "_").replace("-", "_")
        return {"not_started": "pending", "todo": "pending", "open": "pending", "started": "in_progress",
                "complete": "done", "completed": "done", "stuck": "blocked"}.get(s, s)

    @model_validator(mode="after")
    def _check(self) -> MilestoneRow:
        if self.status == "done" and self.completed_date is None:
            raise ValueError("a done milestone needs its completed_date")
        return self


class RenewalRow(CleanRow):
    """A past renewal and how it went."""

    model_config = {"extra": "allow"}
    account_external_id: str = Field(min_length=1)
    renewal_date: date
    outcome: Literal["renewed", "churned", "contracted", "expanded"]
    arr_before: float = Field(ge=0)
    arr_after: float = Field(ge=0)
    features: dict[str, Any] | None = None

    _d = field_validator("renewal_date", mode="before")(_date)
    _n = field_validator("arr_before", "arr_after", mode="before")(_number)

    @field_validator("outcome", mode="before")
    @classmethod
    def _outcome(cls, v: Any) -> Any:
        s = str(v or "").strip().lower()
        return {"renew": "renewed", "churn": "churned", "lost": "churned", "downsell": "contracted",
                "contraction": "contracted", "upsell": "expanded", "expansion": "expanded"}.get(s, s)

    @field_validator("features", mode="before")
    @classmethod
    def _features(cls, v: Any) -> Any:
        if v is None or v == "":
            return None
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except json.JSONDecodeError:
                raise ValueError("features is not JSON") from None
        return check_finite(v)

    @model_validator(mode="after")
    def _columns(self) -> RenewalRow:
        """One column per feature (usage_change_30d, nps, ...) instead of a JSON column."""
        from tools.renewal_model import FEATURES

        extra = self.model_extra or {}
        given = {f: extra[f] for f in FEATURES if f in extra and extra[f] not in (None, "")}
        if given:
            try:
                self.features = {**(self.features or {}), **{k: float(v) for k, v in given.items()}}
            except (TypeError, ValueError):
                raise ValueError("feature columns must be numbers") from None
            check_finite(self.features)
        if self.outcome == "churned" and self.arr_after:
            raise ValueError("a churned renewal has arr_after 0")
        return self


SCHEMAS: dict[str, type[BaseModel]] = {
    "telemetry": TelemetryRow, "requests": RequestRow, "fine_tunes": FineTuneRow, "plans": PlanRow,
    "milestones": MilestoneRow, "renewals": RenewalRow,
}
