"""What the MCP tests share: a canary account in another book, the SDK's own clients, and every tool called once.

The clients are the `mcp` SDK's (`ClientSession` over `stdio_client` or `streamable_http_client`),
talking to `retain mcp` started as a real process; nothing here fakes a transport.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import select

from integrations.crm.models import CSM, Account, Contact

DANA, MARCUS, SAM = "dana.reyes@retain.example", "marcus.chen@retain.example", "sam.okafor@retain.example"
DANA_SLACK = "UCSM00004"
CANARY = "Quokkafield"  # in a West account's name and its contact's: never in anything Dana (East, a CSM) sees
TOOLS = {"ask", "query", "account", "metric", "portfolio", "draft"}
READ_S = 900  # generous: a busy 2-core machine, never a timing assertion


def plant_canary(store: Any) -> int:
    """Rename one of Sam's (another team's) accounts and its contacts after the canary; its id."""
    with store.session() as s:
        sam = s.scalar(select(CSM.id).where(CSM.email == SAM))
        acct = s.scalars(select(Account).where(Account.owner_id == sam, Account.lifecycle_stage != "churned")
                         .order_by(Account.id)).first()
        acct.name = f"Zanzibar {CANARY} Holdings"
        for c in s.scalars(select(Contact).where(Contact.account_id == acct.id)):
            c.name = f"Kim {CANARY}"
        return acct.id


def server_env(data_dir: str, database_url: str = "", **extra: str) -> dict[str, str]:
    """The environment of a `retain mcp` process over this data (no LLM: deterministic answers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAIN_")}
    env |= {"RETAIN_DATA_DIR": data_dir, "RETAIN_TODAY": "2026-11-23", "RETAIN_LLM__BACKEND": "none",
            "COLUMNS": "200", **extra}
    if database_url:
        env["RETAIN_DATABASE_URL"] = database_url
    return env


@asynccontextmanager
async def stdio_session(env: dict[str, str], *args: str):
    """An initialized SDK session with `python -m retain ARGS mcp --no-llm` spawned over stdio."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "retain", *args, "mcp", "--no-llm"], env=env)
    with open(os.devnull, "w") as devnull:
        async with stdio_client(params, errlog=devnull) as (r, w), ClientSession(
                r, w, read_timeout_seconds=READ_S) as s:
            await s.initialize()
            yield s


class SlackSigned(httpx2.Auth):
    """Signs each request body the way Slack signs its requests (v0 HMAC-SHA256 with the signing secret)."""

    requires_request_body = True

    def __init__(self, secret: str, skew_s: int = 0):
        self.secret, self.skew_s = secret, skew_s

    def auth_flow(self, request):  # noqa: D102 - httpx2's hook
        ts = str(int(time.time()) - self.skew_s)
        mac = hmac.new(self.secret.encode(), f"v0:{ts}:".encode() + request.content, hashlib.sha256).hexdigest()
        request.headers["X-Slack-Request-Timestamp"] = ts
        request.headers["X-Slack-Signature"] = f"v0={mac}"
        yield request


@asynccontextmanager
async def http_session(url: str, token: str | None = None, auth: httpx2.Auth | None = None):
    """An initialized SDK session over streamable HTTP, bearing `token` (or signed by `auth`)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = httpx2.Timeout(60, read=READ_S)
    async with httpx2.AsyncClient(headers=headers, auth=auth, timeout=timeout) as hc, \
            streamable_http_client(url, http_client=hc) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        yield s


def blob(result: Any) -> str:
    """Everything a client sees of a tool result or resource read: its text and its structured content."""
    if hasattr(result, "contents"):
        return "\n".join(getattr(c, "text", "") for c in result.contents)
    text = "\n".join(getattr(c, "text", "") for c in result.content)
    return text + "\n" + json.dumps(result.structured_content or {}, default=str)


async def every_tool(s: ClientSession, meta: dict[str, Any] | None = None) -> dict[str, str]:
    """Each tool (and resource) called the way that shows the most of the caller's book: what each returned."""
    calls: list[tuple[str, dict[str, Any]]] = [
        ("portfolio", {"limit": 200}),
        ("query", {"query": {"entity": "accounts", "fields": ["account", "owner", "health", "arr"], "limit": 500}}),
        ("query", {"query": {"entity": "contacts", "fields": ["name", "role", "account"], "limit": 500}}),
        ("query", {"query": {"entity": "accounts", "group_by": "owner", "aggregates": [{"fn": "count"}]}}),
        ("metric", {"metric": "nrr", "start": "2025-01-01", "end": "2026-11-23"}),
        ("metric", {"metric": "nps"}),
        ("account", {"name": "Zanzibar"}),
        ("ask", {"question": "which accounts are at risk?"}),
        ("ask", {"question": "how is Zanzibar doing?"}),
        ("draft", {"request": "email Zanzibar's champion about the renewal"}),
        ("query", {"query": {"entity": "contacts", "account_ids": list(range(1, 400)), "limit": 500}}),
    ]
    out: dict[str, str] = {}
    for i, (name, args) in enumerate(calls):
        out[f"{i}:{name}"] = blob(await s.call_tool(name, args, read_timeout_seconds=READ_S, meta=meta))
    out["briefing"] = blob(await s.read_resource("retain://briefing/me", meta=meta))
    return out
