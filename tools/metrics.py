"""The metrics CS leaders run on, over the asker's scope and a period, with their formula inputs.

Retention metrics come from renewal history (renewals due in the period and how they went):
    NRR = (start ARR + expansion - contraction - churn) / start ARR
    GRR = (start ARR - contraction - churn) / start ARR
    logo retention = renewals kept / renewals due;  churn rate = churned / renewals due
Survey metrics come from the responses in the period: average NPS answer, NPS (% promoters minus
% detractors), average CSAT. The scope is the viewer's, applied in code by the query layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from tools.crm import Source, ToolContext
from tools.query import Filter, Query, run

Metric = Literal["nrr", "grr", "logo_retention", "churn_rate", "nps", "avg_nps", "avg_csat"]
NAMES: dict[str, str] = {"nrr": "Net revenue retention (NRR)", "grr": "Gross revenue retention (GRR)",
                         "logo_retention": "Logo retention", "churn_rate": "Churn rate",
                         "nps": "NPS", "avg_nps": "Average NPS answer", "avg_csat": "Average CSAT"}


@dataclass
class MetricResult:
    """A metric's value (None when nothing fell in the period), its inputs, period and sources."""

    metric: str
    value: float | None
    inputs: dict[str, float]  # the formula's inputs by name (responses, promoters, start_arr, renewals, ...)
    start: date
    end: date
    sources: list[Source]
    formula: str


def compute(ctx: ToolContext, metric: Metric, start: date, end: date,
            account_ids: list[int] | None = None, where: list[Filter] | None = None) -> MetricResult:
    """One metric over [start, end] for the viewer's scope (or some of its accounts, or rows `where` holds).

    `where` filters on the account's fields every entity shares: owner, team, segment, industry.
    """
    where = list(where or [])
    window = [*where, Filter(field="renewal_date", op="between", value=[start.isoformat(), end.isoformat()])]
    if metric in ("nps", "avg_nps", "avg_csat"):
        kind = "csat" if metric == "avg_csat" else "nps"
        res = run(ctx, Query(entity="surveys", account_ids=account_ids or [], filters=[
            *where, Filter(field="kind", value=kind),
            Filter(field="responded_on", op="between", value=[start.isoformat(), end.isoformat()])]))
        scores = [r["score"] for r in res.rows]
        n = len(scores)
        inputs: dict[str, float] = {"responses": n}
        value: float | None
        if metric == "nps":
            prom = sum(1 for s in scores if s >= 9)
            det = sum(1 for s in scores if s <= 6)
            inputs |= {"promoters": prom, "passives": n - prom - det, "detractors": det}
            value = (prom - det) / n * 100 if n else None
            formula = "% promoters (9-10) - % detractors (0-6)"
        else:
            value = sum(scores) / n if n else None
            formula = f"mean of {kind.upper()} answers"
        return MetricResult(metric, None if value is None else round(value, 1), inputs, start, end,
                            res.sources(), formula)
    res = run(ctx, Query(entity="renewals", account_ids=account_ids or [], filters=window,
                         fields=["renewal_date", "outcome", "arr_before", "arr_after", "account"]))
    rows = res.rows
    start_arr = sum(r["arr_before"] for r in rows)
    expansion = sum(max(0.0, r["arr_after"] - r["arr_before"]) for r in rows if r["outcome"] != "churned")
    contraction = sum(max(0.0, r["arr_before"] - r["arr_after"]) for r in rows if r["outcome"] != "churned")
    churn = sum(r["arr_before"] for r in rows if r["outcome"] == "churned")
    logos = len(rows)
    churned = sum(1 for r in rows if r["outcome"] == "churned")
    inputs = {"renewals": logos, "start_arr": start_arr, "expansion": expansion, "contraction": contraction,
              "churned_arr": churn, "churned": churned}
    if metric == "nrr":
        value = (start_arr + expansion - contraction - churn) / start_arr if start_arr else None
        formula = "(start ARR + expansion - contraction - churn) / start ARR"
    elif metric == "grr":
        value = (start_arr - contraction - churn) / start_arr if start_arr else None
        formula = "(start ARR - contraction - churn) / start ARR"
    elif metric == "logo_retention":
        value = (logos - churned) / logos if logos else None
        formula = "renewals kept / renewals due"
    else:
        value = churned / logos if logos else None
        formula = "accounts churned / renewals due"
    return MetricResult(metric, None if value is None else round(value * 100, 1), inputs, start, end,
                        res.sources(), formula)
