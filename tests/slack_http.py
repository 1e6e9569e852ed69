"""Signed Slack requests to Retain's HTTP endpoint, as Slack sends them (v0 HMAC over the body)."""

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import httpx
from conftest import SLACK_SECRET as SECRET

DANA, MARCUS = "UCSM00004", "UCSM00005"


def signed(body: str, ts: int | None = None, secret: str = SECRET, retry: int | None = None) -> dict:
    ts = int(time.time()) if ts is None else ts
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    h = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig}
    if retry is not None:
        h |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return h


def event(url, ev: dict, event_id: str, retry: int | None = None):
    body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event": ev,
                       "event_id": event_id, "event_time": int(time.time())})
    return httpx.post(url, content=body, headers={**signed(body, retry=retry), "Content-Type": "application/json"})


def mention(url, text, user=DANA, channel="C0EAST0001", ts="1700000100.000100", thread_ts=None, eid="Ev1",
            retry=None):
    ev = {"type": "app_mention", "user": user, "text": f"<@UBOT> {text}", "channel": channel, "ts": ts}
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return event(url, ev, eid, retry)


def form(url, payload: dict | None = None, **fields):
    data = urlencode({"payload": json.dumps(payload)} if payload is not None else fields)
    return httpx.post(url, content=data, headers={**signed(data), "Content-Type": "application/x-www-form-urlencoded"})


def answers(mock):
    return [c for c in mock.of("chat.update")]


def approval_value(bot, mock, url, user, eid, button=0):
    """Ask about Cyberdyne's onboarding as `user`; the value of the drafted follow-up's button."""
    mention(url, "what's blocking Cyberdyne's onboarding?", user=user, eid=eid)
    bot.inbox.drain()
    approval = [p for p in mock.of("chat.postMessage") if "Draft for approval" in p["text"]][0]
    return approval["blocks"][-1]["elements"][button]["value"]
