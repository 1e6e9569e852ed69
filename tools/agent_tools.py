"""What agents may call: CRM tools with pydantic argument schemas, bound to one ToolContext."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from tools import crm, risk_signals
from tools.crm import ToolContext


class AccountName(BaseModel):
    """Arguments naming an account."""

    name: str = Field(description="The account name as the CSM wrote it; typos are fine.")


class AccountId(BaseModel):
    """Arguments naming an account by id (from find_account)."""

    account_id: int = Field(description="The account id returned by find_account.")


class UsageArgs(AccountId):
    """Arguments of usage_trend."""

    days: int = Field(90, ge=7, le=180, description="How many days back to look.")


class TicketArgs(AccountId):
    """Arguments of list_tickets."""

    status: Literal["open", "closed", "all"] = "open"
    limit: int = Field(10, ge=1, le=50)


class PortfolioArgs(BaseModel):
    """Arguments of portfolio."""

    csm: str | None = Field(None, description="Only this CSM's accounts (name).")
    band: Literal["red", "yellow", "green"] | None = None
    segment: Literal["at risk", "growth potential", "high-value", "healthy"] | None = None
    renewal_within_days: int | None = Field(None, ge=0, le=730)


_SPECS: list[tuple[Callable[..., Mapping[str, object]], type[BaseModel]]] = [
    (crm.find_account, AccountName),
    (crm.account_overview, AccountId),
    (crm.health_breakdown, AccountId),
    (crm.usage_trend, UsageArgs),
    (crm.model_performance, AccountId),
    (crm.list_tickets, TicketArgs),
    (crm.nps_summary, AccountId),
    (crm.onboarding_status, AccountId),
    (crm.renewal_outlook, AccountId),
    (risk_signals.risk_signals, AccountId),
    (crm.portfolio, PortfolioArgs),
]


def build_tools(ctx: ToolContext) -> list[BaseTool]:
    """The CRM tools as LangChain tools bound to a context (store, viewer, date)."""
    tools: list[BaseTool] = []
    for fn, schema in _SPECS:
        def run(_fn: Callable[..., Mapping[str, object]] = fn, **kwargs: Any) -> Mapping[str, object]:
            return _fn(ctx, **kwargs)

        tools.append(StructuredTool.from_function(
            func=run, name=fn.__name__, description=(fn.__doc__ or "").strip(),
            args_schema=schema))
    return tools


__all__ = ["ToolContext", "build_tools"]
