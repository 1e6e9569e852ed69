"""Account features for the whole portfolio at once, as of a date: one SQL pass per table.

The metric columns (METRICS) are what the scorecard and the renewal model read; the other
columns are context that turns a metric into a sentence (names, dates, before/after values).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Date, DateTime, and_, case, func, select

from core.lazy import lazy
from integrations.crm.models import (
    Account,
    Activity,
    Contact,
    Contract,
    FineTuneJob,
    Milestone,
    OnboardingPlan,
    SurveyResponse,
    TelemetryDaily,
    Ticket,
)
from integrations.crm.store import CRMStore
from tools.entities import ACTIVITY_KINDS, NEVER_DAYS
from tools.tones import tones

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

METRICS = [
    "usage_change_30d", "seat_utilization", "p95_ratio", "error_rate", "eval_score",
    "open_high_tickets", "tickets_30d", "nps", "note_tone", "onboarding_progress",
    "onboarding_overdue", "champion_present", "days_since_touch", "days_to_renewal",
]

TURN = -0.4  # a text at or below this tone can be where an account's tone turned


def _read(store: CRMStore, stmt) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Rows of a select as a frame, fetched from the DBAPI cursor (no per-row ORM processing).

    Date columns come back as `datetime.date` (or None) and timestamps as pandas timestamps, whatever
    the driver returns (SQLite returns text).
    """
    with store.engine.connect() as conn:
        result = conn.execute(stmt)
        df = pd.DataFrame.from_records(result.cursor.fetchall(), columns=list(result.keys()))
    for col in stmt.selected_columns:
        if isinstance(col.type, DateTime):
            df[col.name] = pd.to_datetime(df[col.name], errors="coerce", format="ISO8601")
        elif isinstance(col.type, Date):
            df[col.name] = _to_date(df[col.name])
    return df


def _to_date(series: pd.Series) -> pd.Series:
    """Values as `datetime.date` objects, None where missing (vectorised)."""
    stamps = pd.to_datetime(series, errors="coerce", format="ISO8601")
    out = pd.Series(stamps.dt.date.to_numpy(dtype=object), index=series.index, dtype=object)
    out[stamps.isna().to_numpy()] = None
    return out


def compute_features(store: CRMStore, as_of: date, account_ids: list[int] | None = None) -> pd.DataFrame:
    """Features of every live account (or the given ones) as of `as_of`, indexed by account id.

    One step per source, in this order (each adds its columns): contract, telemetry, fine-tunes,
    tickets, NPS, tone of the texts, onboarding, champion.
    """
    acc = select(
        Account.id.label("account_id"), Account.name, Account.segment, Account.industry,
        Account.arr, Account.owner_id, Account.lifecycle_stage, Account.created_on,
    ).where(Account.lifecycle_stage != "churned")
    if account_ids is not None:
        acc = acc.where(Account.id.in_(account_ids))
    df = _read(store, acc).set_index("account_id")
    ids = df.index.tolist()
    for step in (_contract, _telemetry, _fine_tunes, _tickets, _nps, _tone, _onboarding, _champion):
        df = step(store, df, as_of)
    return df.loc[ids]


def _contract(store: CRMStore, df: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The latest active contract: renewal date, days to it, seats, ARR, plan."""
    ctr = _read(store, select(Contract.account_id, Contract.renewal_date, Contract.seats,
                              Contract.arr.label("contract_arr"), Contract.plan,
                              Contract.id.label("contract_id"))
                .where(Contract.status == "active").order_by(Contract.renewal_date))
    ctr = ctr.drop_duplicates("account_id", keep="last").set_index("account_id")
    df = df.join(ctr)
    df["renewal_date"] = _to_date(df["renewal_date"])
    df["days_to_renewal"] = [
        float((d - as_of).days) if isinstance(d, date) else np.nan for d in df["renewal_date"]
    ]
    return df


def _telemetry(store: CRMStore, df: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Usage, seats, latency, errors and model switches from the last 60 days of telemetry.

    Usage is the last 30 days against the 30 before; latency now (14 d) against a month before (30-60 d).
    """
    t = TelemetryDaily
    d30, d60, d14, d7 = (as_of - timedelta(days=k) for k in (30, 60, 14, 7))
    in_last30 = and_(t.day > d30, t.day <= as_of)
    in_prior30 = and_(t.day > d60, t.day <= d30)
    in_last14 = and_(t.day > d14, t.day <= as_of)
    in_last7 = and_(t.day > d7, t.day <= as_of)
    tel = _read(store, select(
        t.account_id,
        func.sum(case((in_last30, t.api_requests), else_=0)).label("requests_30d"),
        func.sum(case((in_prior30, t.api_requests), else_=0)).label("requests_prior_30d"),
        func.avg(case((in_last14, t.p95_latency_ms))).label("p95_now"),
        func.avg(case((in_prior30, t.p95_latency_ms))).label("p95_before"),
        func.avg(case((in_last14, t.p50_latency_ms))).label("p50_now"),
        func.sum(case((in_last14, t.error_rate * t.api_requests), else_=0)).label("err_weighted"),
        func.sum(case((in_last14, t.api_requests), else_=0)).label("requests_14d"),
        func.avg(case((in_last7, t.seats_used))).label("seats_used_7d"),
        func.sum(case((in_last30, t.spend), else_=0)).label("spend_30d"),
        func.sum(case((in_last30, t.input_tokens), else_=0)).label("input_tokens_30d"),
        func.max(case((t.day <= as_of, t.day))).label("last_usage_day"),
    ).where(t.day > d60, t.day <= as_of).group_by(t.account_id)).set_index("account_id")
    df = df.join(tel)
    prior = df["requests_prior_30d"].astype(float)
    df["usage_change_30d"] = np.where(prior > 0, df["requests_30d"] / prior.where(prior > 0) - 1.0,
                                      np.nan)
    df["seat_utilization"] = df["seats_used_7d"] / df["seats"].where(df["seats"] > 0)
    df["p95_ratio"] = df["p95_now"] / df["p95_before"].where(df["p95_before"] > 0)
    df["error_rate"] = df["err_weighted"] / df["requests_14d"].where(df["requests_14d"] > 0)
    _model_switches(store, df, as_of)
    return df


def _fine_tunes(store: CRMStore, df: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The latest finished fine-tune's eval score."""
    ft = _read(store, select(FineTuneJob.account_id, FineTuneJob.eval_score, FineTuneJob.created_on)
               .where(FineTuneJob.created_on <= as_of, FineTuneJob.eval_score.is_not(None))
               .order_by(FineTuneJob.created_on))
    df["eval_score"] = ft.drop_duplicates("account_id", keep="last").set_index("account_id")[
        "eval_score"].reindex(df.index)
    return df


def _tickets(store: CRMStore, df: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Open, open high-priority and last-30-days ticket counts."""
    since30 = pd.Timestamp(as_of - timedelta(days=30))
    tk = _read(store, select(Ticket.account_id, Ticket.priority, Ticket.status, Ticket.opened_at,
                             Ticket.closed_at).where(Ticket.opened_at <= pd.Timestamp(as_of) + pd.Timedelta(days=1)))
    tk["opened_at"] = pd.to_datetime(tk["opened_at"])
    tk["closed_at"] = pd.to_datetime(tk["closed_at"])
    # Open at the end of the as-of day, like its opened_at bound: a ticket closed today is closed (its status says so).
    still_open = tk["closed_at"].isna() | (tk["closed_at"] >= pd.Timestamp(as_of) + pd.Timedelta(days=1))
    high_open = tk[still_open & tk["priority"].isin(["high", "urgent"])]
    df["open_high_tickets"] = high_open.groupby("account_id").size().reindex(df.index).fillna(0.0)
    df["open_tickets"] = tk[still_open].groupby("account_id").size().reindex(df.index).fillna(0.0)
    df["tickets_30d"] = tk[tk["opened_at"] > since30].groupby("account_id").size().reindex(
        df.index).fillna(0.0)
    return df


def _nps(store: CRMStore, df: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The most recent NPS answer of the last 180 days."""
    nps = _read(store, select(SurveyResponse.account_id, SurveyResponse.score,
                              SurveyResponse.responded_on, SurveyResponse.id.label("nps_id"))
                .where(SurveyResponse.kind == "nps", SurveyResponse.responded_on <= as_of,
                       SurveyResponse.responded_on > as_of - timedelta(days=180))
                .order_by(SurveyResponse.responded_on))
    latest = nps.drop_duplicates("account_id", keep="last").set_index("account_id")
    df["nps"] = latest["score"].reindex(df.index).astype(float)
    df["nps_date"] = _to_date(latest["responded_on"].reindex(df.index))
    df["nps_id"] = latest["nps_id"].reindex(df.index)
    return df


def _tone(store: CRMStore, df: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Tone of notes, ticket texts and survey comments (tools.sentiment), and the last touch.

    `note_tone` is the mean of the last 60 days; `tone_change` the last 30 days against days 31-90; where it
    turned negative is the first clearly negative text of the last 30 days (kept with its source for the driver).
    """
    notes = _read(store, select(Activity.account_id, Activity.occurred_on, Activity.body, Activity.id, Activity.kind)
                  .where(Activity.occurred_on <= as_of))
    when = pd.to_datetime(notes["occurred_on"])
    since90 = as_of - timedelta(days=90)
    tix = _read(store, select(Ticket.account_id, Ticket.opened_at, Ticket.subject, Ticket.body, Ticket.id)
                .where(Ticket.opened_at > pd.Timestamp(since90), Ticket.opened_at <= pd.Timestamp(as_of)
                       + pd.Timedelta(days=1)))
    said = _read(store, select(SurveyResponse.account_id, SurveyResponse.responded_on, SurveyResponse.comment,
                               SurveyResponse.id)
                 .where(SurveyResponse.responded_on > since90, SurveyResponse.responded_on <= as_of,
                        SurveyResponse.comment.is_not(None)))
    frames = [pd.DataFrame({"account_id": notes["account_id"], "day": when, "text": notes["body"],
                            "kind": "activity", "ref": notes["id"]})[(when > pd.Timestamp(since90)).to_numpy()],
              pd.DataFrame({"account_id": tix["account_id"], "day": pd.to_datetime(tix["opened_at"]).dt.normalize(),
                            "text": (tix["subject"].fillna("") + ". " + tix["body"].fillna("")),
                            "kind": "ticket", "ref": tix["id"]}),
              pd.DataFrame({"account_id": said["account_id"], "day": pd.to_datetime(said["responded_on"]),
                            "text": said["comment"], "kind": "nps", "ref": said["id"]})]
    texts = pd.concat([f for f in frames if not f.empty], ignore_index=True) if any(
        not f.empty for f in frames) else pd.DataFrame(columns=["account_id", "day", "text", "kind", "ref"])
    texts["tone"] = tones(store, [str(t) for t in texts["text"]])  # stored per text: only new ones computed
    age = (pd.Timestamp(as_of) - pd.to_datetime(texts["day"])).dt.days
    df["note_tone"] = texts[(age < 60).to_numpy()].groupby("account_id")["tone"].mean().reindex(df.index)
    recent_tone = texts[(age < 30).to_numpy()].groupby("account_id")["tone"].mean()
    before_tone = texts[((age >= 30) & (age < 90)).to_numpy()].groupby("account_id")["tone"].mean()
    df["tone_change"] = (recent_tone - before_tone).reindex(df.index)
    turns = texts[((age < 30) & (texts["tone"] <= TURN)).to_numpy()].sort_values(["day", "tone"])
    first = turns.drop_duplicates("account_id", keep="first").set_index("account_id")
    df["tone_turn_on"] = _to_date(first["day"].reindex(df.index)) if not first.empty else None
    df["tone_turn_kind"] = first["kind"].reindex(df.index) if not first.empty else None
    df["tone_turn_ref"] = first["ref"].reindex(df.index) if not first.empty else None
    df["tone_turn_text"] = first["text"].reindex(df.index) if not first.empty else None
    last_touch = _to_date(when.groupby(notes["account_id"]).max().reindex(df.index))
    df["last_touch"] = last_touch
    df["days_since_touch"] = [float((as_of - d).days) if isinstance(d, date) else np.nan
                              for d in last_touch]
    for kind in ACTIVITY_KINDS:  # "no calls since October": the last activity of that kind (never: NEVER_DAYS)
        mask = (notes["kind"] == kind).to_numpy()
        last = _to_date(when[mask].groupby(notes["account_id"][mask]).max().reindex(df.index))
        df[f"last_{kind}"] = last
        df[f"days_since_{kind}"] = [float((as_of - d).days) if isinstance(d, date) else NEVER_DAYS for d in last]
    return df


def _onboarding(store: CRMStore, df: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The active plan's progress and overdue milestones."""
    ms = _read(store, select(OnboardingPlan.account_id, Milestone.name, Milestone.due_date,
                             Milestone.completed_date, Milestone.status, Milestone.seq)
               .join(Milestone, Milestone.plan_id == OnboardingPlan.id)
               .where(OnboardingPlan.status == "active").order_by(Milestone.seq))
    ms["due_date"] = _to_date(ms["due_date"])
    ms["completed_date"] = _to_date(ms["completed_date"])
    done = ms["completed_date"].map(lambda d: isinstance(d, date) and d <= as_of)
    overdue = (~done) & ms["due_date"].map(lambda d: isinstance(d, date) and d < as_of)
    grouped = ms.assign(done=done, overdue=overdue).groupby("account_id")
    df["onboarding_progress"] = grouped["done"].mean().reindex(df.index)
    df["onboarding_overdue"] = grouped["overdue"].sum().reindex(df.index)
    first_overdue = ms[overdue].drop_duplicates("account_id").set_index("account_id")
    df["first_overdue_milestone"] = first_overdue["name"].reindex(df.index)
    df["first_overdue_due"] = first_overdue["due_date"].reindex(df.index)
    return df


def _champion(store: CRMStore, df: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Champion present unless every champion has left by `as_of`; the last one who left."""
    ch = _read(store, select(Contact.account_id, Contact.name, Contact.left_on)
               .where(Contact.is_champion.is_(True)))
    ch["left_on"] = _to_date(ch["left_on"])
    ch["here"] = ch["left_on"].map(lambda d: not isinstance(d, date) or d > as_of).astype(bool)
    present = ch.groupby("account_id")["here"].any()
    df["champion_present"] = present.reindex(df.index).astype(float)
    gone = ch[~ch["here"].to_numpy(dtype=bool)].sort_values("left_on").drop_duplicates("account_id", keep="last")
    gone = gone.set_index("account_id")
    df["champion_left_name"] = gone["name"].reindex(df.index)
    df["champion_left_on"] = gone["left_on"].reindex(df.index)
    df.loc[df["champion_present"] == 1.0, ["champion_left_name", "champion_left_on"]] = None
    return df


def _model_switches(store: CRMStore, df: pd.DataFrame, as_of: date) -> None:
    """Mark accounts whose model version changed in the last 60 days, with the date."""
    t = TelemetryDaily
    rows = _read(store, select(t.account_id, t.model_name, t.model_version,
                               func.min(t.day).label("first_day"))
                 .where(t.day > as_of - timedelta(days=60), t.day <= as_of)
                 .group_by(t.account_id, t.model_name, t.model_version))
    rows["first_day"] = _to_date(rows["first_day"])
    rows = rows.sort_values(["account_id", "first_day"])
    latest = rows.drop_duplicates("account_id", keep="last").set_index("account_id")
    counts = rows.groupby("account_id").size()
    earliest = rows.drop_duplicates("account_id", keep="first").set_index("account_id")
    df["model_now"] = (latest["model_name"] + " " + latest["model_version"]).reindex(df.index)
    switched = counts[counts > 1].index
    df["model_before"] = None
    df["model_switched_on"] = None
    sw = df.index.intersection(switched)
    df.loc[sw, "model_before"] = (earliest["model_name"] + " " + earliest["model_version"]).reindex(sw)
    df.loc[sw, "model_switched_on"] = latest["first_day"].reindex(sw)
