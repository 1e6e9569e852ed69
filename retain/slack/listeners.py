"""Bolt listeners: each records the event in the inbox and acks at once; workers answer later.

`register(app, bot)` wires them all; each group has its own `register_*` so a test or another entry
point can take only what it needs.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from integrations.slack import blocks
from retain.slack.bot import Bot
from tools.access import DECIDE_REFUSAL


def _question(event: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    return {"user": event.get("user", ""), "channel": event["channel"], "text": event.get("text", ""),
            "ts": event["ts"], "thread_ts": event.get("thread_ts"), "channel_type": event.get("channel_type", ""),
            "team": body.get("team_id") or event.get("team")}


def register_events(app: App, bot: Bot) -> None:
    """Mentions, DMs and App Home opens."""

    @app.event("app_mention")
    def mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        bot.inbox.accept(body["event_id"], "question", _question(event, body))

    @app.event("message")
    def message(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id"):
            if bot.inbox.accept(body["event_id"], "question", _question(event, body)) and event.get("thread_ts"):
                bot.received(body["event_id"], event["channel"], event["thread_ts"])  # status at once

    @app.event("assistant_thread_started")
    def assistant_thread(body: dict[str, Any], event: dict[str, Any]) -> None:
        t = event.get("assistant_thread") or {}
        bot.inbox.accept(body["event_id"], "assistant_thread", {
            "user": t.get("user_id", ""), "channel": t.get("channel_id", ""), "thread_ts": t.get("thread_ts", "")})

    @app.event("assistant_thread_context_changed")
    def assistant_context(ack: Any) -> None:
        ack()  # Retain answers from the CRM, not from the channel the person is looking at

    @app.event("app_home_opened")
    def home(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            bot.inbox.accept(body["event_id"], "home", {"user": event["user"]})


def register_commands(app: App, bot: Bot) -> None:
    """The /retain slash command (acked with a short note)."""

    @app.command("/retain")
    def command(ack: Any, body: dict[str, Any]) -> None:
        ack(text="Working on it…")
        bot.inbox.accept(f"cmd:{body['trigger_id']}", "command", {
            "user": body["user_id"], "channel": body["channel_id"], "text": body.get("text", "")})


def register_actions(app: App, bot: Bot) -> None:
    """Approve, skip and edit buttons, and the edit modal's submission (who may is checked by the worker)."""
    for action in ("retain_approve", "retain_skip"):
        @app.action(action)
        def decide(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            ack()
            bot.inbox.accept(f"act:{body['trigger_id']}", "decision", {
                "user": body["user"]["id"], "value": action["value"], "action": action["action_id"],
                "channel": body["channel"]["id"], "ts": body["message"]["ts"]})

    @app.action(blocks.DECK_ACTION)
    def qbr_deck(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        message = body.get("message") or {}
        bot.inbox.accept(f"act:{body['trigger_id']}", "qbr_deck", {
            "user": body["user"]["id"], "value": action.get("value", ""), "channel": body["channel"]["id"],
            "ts": message.get("ts", ""), "thread_ts": message.get("thread_ts")})

    @app.action(blocks.FEEDBACK_ACTION)
    def rate(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        key = f"fb:{action.get('action_ts', body.get('trigger_id', ''))}:{user}"
        message = body.get("message") or {}
        bot.inbox.accept(key, "feedback", {"key": key, "user": user, "value": action.get("value", ""),
                                          "channel": (body.get("channel") or {}).get("id", ""),
                                          "ts": message.get("ts"), "clicked": action.get("action_ts")})

    @app.action("retain_edit")
    def edit(ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        value = json.loads(action["value"])
        user = body["user"]["id"]
        draft = bot.assistant.pending_draft(value["thread"], value.get("draft"))
        if draft is None:
            return
        asker, _ = bot.person(user)  # as every sender: a Slack member mapped to an active person, or nobody
        if asker is None or not bot.assistant.may_decide(value["thread"], asker, value.get("draft")):
            client.chat_postEphemeral(channel=body["channel"]["id"], user=user, text=DECIDE_REFUSAL)
            return
        meta = {**value, "channel": body["channel"]["id"], "ts": body["message"]["ts"]}
        client.views_open(trigger_id=body["trigger_id"], view=blocks.edit_modal(draft["body"], meta))

    @app.view("retain_edit_submit")
    def edit_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        meta = json.loads(view["private_metadata"])
        text = view["state"]["values"]["body"]["text"]["value"]
        bot.inbox.accept(f"view:{view['id']}:{view.get('hash', '')}", "decision", {
            "user": body["user"]["id"], "value": json.dumps(meta), "action": "retain_edit_submit",
            "channel": meta["channel"], "ts": meta["ts"], "text": text})


def register(app: App, bot: Bot) -> None:
    """Every listener."""
    register_events(app, bot)
    register_commands(app, bot)
    register_actions(app, bot)
