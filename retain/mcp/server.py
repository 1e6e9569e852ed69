"""The MCP tools and resources: what a CSM can ask Retain from Claude Desktop, an IDE, Slackbot or an agent.

Every tool acts as the verified caller (`calls.Caller`) through the same tools and access rules as
Slack and the CLI: a CSM sees their accounts, a manager their team's, an admin all. There is no
operator tool here (imports, people, jobs, tokens): those stay on the command line. `draft` only
ever creates a pending draft; approving it stays in Slack or `retain decide`.
Each result is structured content (the data, with the source of every fact) and one short text;
a Slack client (Slack identity auth) also gets `ask` and `account` as Block Kit (`blocks`), rendered
by the same safe rendering as the Slack app.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from agents import briefing
from agents.assistant import Assistant, Result
from agents.context import request_deps
from core import figures
from core.errors import AccessDenied, RetainError
from integrations.slack import blocks
from integrations.slack.config import load_slack_config
from retain.mcp.calls import Caller, RateLimits, RetainMCP
from tools import crm
from tools.access import may_brief
from tools.metrics import NAMES, Metric, compute
from tools.plain import plain
from tools.query import ENTITIES, Filter, Query, run

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
INSTRUCTIONS = (
    "Retain answers questions about the customer accounts the signed-in person may see, from its CRM, "
    "product telemetry and notes. Every fact comes with its source record. Use `ask` for questions in plain "
    "words, `query` for exact rows, `account` for one account's card, `metric` for NRR/GRR/NPS and the like, "
    "`portfolio` for lists (at risk, renewing soon), `draft` to prepare a message or meeting for approval "
    "(nothing is ever sent from here).")


def _fields() -> str:
    return "; ".join(f"{name}: {', '.join(sorted(spec.fields))}" for name, spec in ENTITIES.items())


def _done(text: str, data: Mapping[str, Any]) -> CallToolResult:
    """A tool's result: one short text, and the data as structured content (plain JSON)."""
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=dict(plain(data)))


def _thread(caller: Caller, thread: str | None) -> str:
    """A conversation id of this caller's own: another person's thread id cannot be continued."""
    own = f"mcp:{caller.key}:"
    if thread and thread.startswith(own):
        return thread
    return own + (thread.strip()[:60] if thread and thread.strip() else uuid.uuid4().hex[:12])


def _answer(result: Result, thread: str) -> dict[str, Any]:
    ans = result.get("answer") or {}
    tables = [f["data"]["table"] | {"title": f["data"].get("title", "")} for f in result.get("findings") or []
              if (f.get("data") or {}).get("table")]
    return {"thread": thread, "text": ans.get("text", ""), "mode": ans.get("mode", ""),
            "sources": ans.get("sources") or [], "tables": tables, "pending_drafts": result.get("pending") or []}


def build(assistant: Assistant, caller: Caller | None = None, limits: RateLimits | None = None) -> RetainMCP:
    """Retain's MCP server over these services; `caller` fixes the identity (stdio), else HTTP verifies it."""
    rt = assistant.services
    st = rt.settings.mcp
    app = RetainMCP("retain", title="Retain", instructions=INSTRUCTIONS, caller=caller,
                    limits=limits or RateLimits(st.calls_per_hour, st.burst), log_level="WARNING")

    link_hosts = load_slack_config(rt.settings.slack.config_file).link_hosts

    def ctx_of(ctx: Context) -> crm.ToolContext:
        return rt.tool_context(app.caller(ctx).who)

    def for_slack(ctx: Context, data: dict[str, Any], kit: list[dict[str, Any]]) -> dict[str, Any]:
        """Block Kit beside the data when the client is Slack (Slack identity auth), safely rendered."""
        return data | {"blocks": kit} if app.caller(ctx).via == "slack" else data

    @app.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False))
    def ask(question: Annotated[str, Field(min_length=1, max_length=2000,
                                           description="The question, in plain words.")],
            ctx: Context,
            thread: Annotated[str | None, Field(max_length=120, description=(
                "Continue a conversation: the `thread` a previous answer returned."))] = None) -> CallToolResult:
        """Ask Retain about your accounts in plain words; the verified answer cites every fact's source.

        Examples: "how is Acme doing?", "which renewals this quarter are at risk and why?", "what changed at
        Initech since Monday?". Follow-ups in the same `thread` keep the context. A request to draft
        something returns a pending draft, like `draft`.
        """
        who = app.caller(ctx)
        tid = _thread(who, thread)
        result = assistant.ask(question, who.who, tid)
        data = for_slack(ctx, _answer(result, tid), blocks.answer(result, link_hosts)[1])
        n = len(data["sources"])
        return _done(data["text"] + (f"\n\n({n} sources in the structured result; thread {tid})" if n else
                                     f"\n\n(thread {tid})"), data)

    @app.tool(annotations=READ, description=(
        "Read exact rows from the CRM as typed data: pick an entity, the fields, filters, sort, limit, or "
        "group_by with aggregates. Every row carries its source record. Only accounts you may see are read. "
        "Ops: eq ne lt le gt ge contains in between is_null not_null (between/in take a list). Fields by "
        "entity: " + _fields()))
    def query(query: Query, ctx: Context) -> CallToolResult:  # noqa: D103 - described above (the field catalogue)
        res = run(ctx_of(ctx), query)
        data = {"entity": query.entity, "columns": res.columns, "rows": res.rows, "total": res.total,
                "groups": res.groups, "totals": res.totals}
        more = f" (showing {len(res.rows)})" if len(res.rows) < res.total else ""
        return _done(f"{res.total} {query.entity}{more}; every row has its source.", data)

    def card(c: crm.ToolContext, name: str) -> dict[str, Any]:
        aid = crm.find_account(c, name)["account_id"]
        return {"overview": crm.account_overview(c, aid), "health": crm.health_breakdown(c, aid),
                "renewal": crm.renewal_outlook(c, aid), "onboarding": crm.onboarding_status(c, aid),
                "performance": crm.model_performance(c, aid), "tickets": crm.list_tickets(c, aid),
                "nps": crm.nps_summary(c, aid)}

    @app.tool(annotations=READ)
    def account(name: Annotated[str, Field(min_length=1, max_length=200, description=(
                    "The account's name; typos and partial names are fine."))],
                ctx: Context) -> CallToolResult:
        """One account's card: health with its drivers, renewal outlook, onboarding, telemetry alerts, tickets, NPS."""
        data = card(ctx_of(ctx), name)
        ov, h = data["overview"], data["health"]
        data = for_slack(ctx, data, blocks.card(ov, h, data["renewal"], data["onboarding"], data["tickets"])[1])
        return _done(f"{ov['name']}: health {figures.score(h['score'])} ({h['band']}), ARR ${ov['arr']:,.0f}, owner "
                     f"{ov['owner']}, renews {ov['renewal_date']}.", data)

    @app.tool(annotations=READ)
    def metric(metric: Annotated[Metric, Field(description="Which metric: " + ", ".join(
                   f"{k} ({v})" for k, v in NAMES.items()))],
               ctx: Context,
               start: Annotated[date | None, Field(description="First day (default: a year before today).")] = None,
               end: Annotated[date | None, Field(description="Last day (default: today).")] = None,
               accounts: Annotated[list[str], Field(max_length=50, description=(
                   "Only these accounts (names); default every account you may see."))] = [],  # noqa: B006
               owner: Annotated[str | None, Field(description="Only this CSM's accounts (full name).")] = None,
               team: Annotated[str | None, Field(description="Only this team's accounts.")] = None,
               segment: Annotated[str | None, Field(description="Only this segment (e.g. Enterprise).")] = None,
               ) -> CallToolResult:
        """A CS metric over a period and your scope, with its formula, inputs and the records it counted.

        Retention metrics (nrr, grr, logo_retention, churn_rate) count the renewals due in the period;
        survey metrics (nps, avg_nps, avg_csat) the responses in it.
        """
        c = ctx_of(ctx)
        last = end or c.as_of
        first = start or last - timedelta(days=365)
        if first > last:
            raise RetainError(f"start {first} is after end {last}; give the period's first day first.")
        ids = [crm.find_account(c, n)["account_id"] for n in accounts]
        where = [Filter(field=f, value=v) for f, v in (("owner", owner), ("team", team), ("segment", segment)) if v]
        m = compute(c, metric, first, last, ids or None, where)
        data = {"metric": m.metric, "name": NAMES[m.metric], "value": m.value, "inputs": m.inputs,
                "start": m.start, "end": m.end, "formula": m.formula, "sources": m.sources}
        unit = "" if m.metric in ("nps", "avg_nps", "avg_csat") else "%"
        shown = "no data in the period" if m.value is None else f"{m.value}{unit}"
        return _done(f"{NAMES[m.metric]} {first} to {last}: {shown} ({m.formula}).", data)

    @app.tool(annotations=READ)
    def portfolio(ctx: Context,
                  band: Annotated[Literal["red", "yellow", "green"] | None, Field(
                      description="Only this health band.")] = None,
                  segment: Annotated[Literal["at risk", "growth potential", "high-value", "healthy"] | None, Field(
                      description="Only this planning segment.")] = None,
                  renewal_within_days: Annotated[int | None, Field(ge=0, le=3650, description=(
                      "Only accounts renewing within this many days."))] = None,
                  owner: Annotated[str | None, Field(description="Only this CSM's accounts (part of a name).")] = None,
                  limit: Annotated[int, Field(ge=1, le=200)] = 50) -> CallToolResult:
        """Your accounts, worst health first: at-risk lists, renewals coming up, a CSM's book."""
        data = crm.portfolio(ctx_of(ctx), csm=owner, band=band, segment=segment,
                             renewal_within_days=renewal_within_days, limit=limit)
        names = ", ".join(a["name"] for a in data["accounts"][:5])
        return _done(f"{data['count']} accounts" + (f", worst first: {names}" if names else "") + ".", data)

    @app.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                                          open_world_hint=False))
    def draft(request: Annotated[str, Field(min_length=1, max_length=2000, description=(
                  "What to prepare, in plain words, naming the account and who it is for."))],
              ctx: Context) -> CallToolResult:
        """Prepare an e-mail, Slack message, meeting invite or reminder for approval; nothing is sent.

        Examples: "email Acme's champion proposing a call next week about two more teams", "set up a QBR with
        Initech's exec sponsor", "remind me Friday to check Globex's usage". The draft waits until its
        account's owner, their manager or an admin approves it in Slack or with
        `retain decide --thread THREAD approve`.
        """
        who = app.caller(ctx)
        tid = _thread(who, None)
        data = _answer(assistant.ask(request, who.who, tid), tid)
        if data["pending_drafts"]:
            d = data["pending_drafts"][0]
            return _done(f"Draft for approval ({d.get('draft_kind') or d.get('kind')}, {d.get('account', '')}, "
                         f"to {d.get('to') or 'you'}): {d.get('subject', '')}. Nothing was sent. Approve with "
                         f"`retain decide --thread {tid} approve`.", data)
        if data["mode"] in ("clarify", "ambiguous", "access", "input"):
            return _done(data["text"], data)  # Retain's question back, or a refusal: no draft was made
        raise RetainError("That did not read as something to prepare, so no draft was made. Say what to send and "
                          "to whom, e.g. \"email Acme's champion about the renewal\"; use `ask` for questions.")

    @app.resource("retain://account/{name}", name="account-card", mime_type="application/json",
                  description="One account's card as JSON (health, drivers, renewal, onboarding, tickets, NPS).")
    def account_resource(name: str, ctx: Context) -> str:
        return json.dumps(plain(card(ctx_of(ctx), unquote(name))))  # a client may percent-encode the name

    @app.resource("retain://briefing/{person}", name="briefing", mime_type="text/plain",
                  description="Today's portfolio briefing: use 'me', or a report's email as their manager.")
    def briefing_resource(person: str, ctx: Context) -> str:
        caller = app.caller(ctx)
        asker = rt.asker(caller.who)
        subject = asker if person in ("me", "") else rt.asker(person)
        if not may_brief(rt.store, asker, subject):
            raise AccessDenied("You can read your own briefing, your team's as their manager, or anyone's as an "
                               "admin; not this one.")
        deps = request_deps(rt, assistant.chat, use_memory=False, asker=subject)
        return briefing.assemble(deps, subject.key, None)[2]

    return app
