"""What a model may say when the router asks it (JSON-schema output), and the checks its reading must pass.

A model's intents only fill a gap; its query runs only when every field exists for its entity and
every value it filters on is the CRM's own word or is in the message.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from agents import understand
from agents.specs import MODEL_INTENTS, router_menu
from agents.state import AccountRef
from prompts import load
from tools.query import ENTITIES, Aggregate, Filter, Query, Sort

FieldName = Literal[tuple(sorted({k for e in ENTITIES.values() for k in e.fields}))]  # type: ignore[valid-type]


class FilterOut(BaseModel):
    """A filter as the model may write it."""

    field: FieldName  # type: ignore[valid-type]
    op: Literal["eq", "ne", "lt", "le", "gt", "ge", "contains", "in", "between", "is_null", "not_null"] = "eq"
    value: str | float | bool | list[str] | None = None


class QueryOut(BaseModel):
    """The typed query as the model may fill it (checked against the entity's fields before it runs)."""

    entity: Literal["accounts", "contacts", "tickets", "activities", "renewals", "telemetry", "fine_tunes",
                    "milestones", "surveys", "plans"]
    filters: list[FilterOut] = Field(default_factory=list, max_length=6)
    sort_by: FieldName | None = None  # type: ignore[valid-type]
    descending: bool = False
    limit: int | None = Field(None, ge=1, le=100)
    group_by: FieldName | None = None  # type: ignore[valid-type]
    count: bool = False


class RouteOut(BaseModel):
    """The LLM's reading of a message, when patterns are unsure."""

    intents: list[Literal[MODEL_INTENTS]] = Field(default_factory=list, max_length=6)  # type: ignore[valid-type]
    accounts: list[str] = Field(default_factory=list, max_length=4)
    window_days: int | None = Field(None, ge=0, le=730)
    query: QueryOut | None = None


def system_prompt() -> str:
    """The router prompt, its list of intents filled from the agent catalogue."""
    return load("router").format(intents=router_menu())


def proposed_plan(out: QueryOut, accounts: list[AccountRef]) -> understand.Plan | None:
    """The model's query, if every field it names exists for its entity; else nothing."""
    try:
        q = Query(entity=out.entity, filters=[Filter(**f.model_dump()) for f in out.filters],
                  sort=[Sort(field=out.sort_by, desc=out.descending)] if out.sort_by else [],
                  limit=out.limit, group_by=out.group_by,
                  aggregates=[Aggregate(fn="count")] if out.count or out.group_by else [],
                  account_ids=[a["account_id"] for a in accounts])
    except (ValidationError, ValueError):
        return None
    return understand.Plan("aggregate" if q.aggregates else "list", out.entity.replace("_", "-"), q,
                           what=out.entity.replace("_", "-"))


_WORDS = {"enterprise", "mid-market", "smb", "red", "yellow", "green", "at risk", "growth potential", "healthy"}


def grounded(out: QueryOut, question: str, vocab: understand.Vocabulary) -> bool:
    """A model's query runs only if every value it filters on is the CRM's own word or is in the message."""
    low = question.casefold()
    known = {v.casefold() for v in [*vocab.teams, *vocab.csms, *vocab.industries, *vocab.plans, *vocab.models,
                                    *_WORDS]}
    numbers = {float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", low)}
    numbers |= {n * 1000 for n in numbers} | {n / 100 for n in numbers}

    def ok(v: Any) -> bool:
        if v is None or isinstance(v, bool):
            return True
        if isinstance(v, (int, float)):
            return any(abs(float(v) - n) < 1e-9 for n in numbers)
        text = str(v).casefold().strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return text in low  # a date the model made up is not a date the CSM said
        return bool(text) and (text in known or text in low)

    return all(ok(x) for f in out.filters for x in (f.value if isinstance(f.value, list) else [f.value]))
