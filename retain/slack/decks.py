"""QBR decks in Slack: "make me a QBR deck for Acme", or the button under a QBR prep answer.

The deck is built as the person who asked or clicked (their access, checked by the tools on every
request and every click), and uploaded into the thread with `files_upload_v2`. A refusal or a
wrong name is one message, and nothing is uploaded. An inbox item that is retried after the upload
does not upload again: its state says so, or, when the attempt died before keeping that, the
thread is read back from Slack for the file.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_sdk.errors import SlackApiError

from agents import specs
from agents.qbr import deck_request
from core.errors import RetainError
from integrations.slack import blocks
from integrations.slack.job import Job
from retain.decks import Deck, make_deck
from retain.slack.bot import Bot
from tools import crm
from tools.access import Asker

log = logging.getLogger("retain.slack")
PREP = frozenset(s.intent for s in specs.CATALOGUE if s.in_prep)  # the route of "prep me for X's QBR"
_REVIEW = re.compile(r"\b(qbr|ebr|business review)\b", re.I)


def asked(question: str) -> dict[str, str | None] | None:
    """The account and quarter a message asks a deck for, or None if it does not ask for one."""
    return deck_request(question)


def button_for(question: str, result: Any) -> dict[str, Any] | None:
    """The "Make the QBR deck" button for an answer to a QBR prep question about one account, else None."""
    route = result.get("route") or {}
    accounts = route.get("accounts") or []
    if set(route.get("intents") or []) != PREP or len(accounts) != 1 or not _REVIEW.search(question):
        return None
    return blocks.deck_button(accounts[0]["account_id"], accounts[0]["name"])


def _comment(deck: Deck) -> str:
    missing = f" Left out for lack of data: {'; '.join(deck.info['missing'])}." if deck.info["missing"] else ""
    return (f"QBR deck for {deck.info['account']['name']}, {deck.info['quarter']}: {len(deck.spec['slides'])} "
            f"slides with native charts you can edit; every number's source is in the speaker notes.{missing}")


def _upload(bot: Bot, job: Job, channel: str, thread_ts: str, who: Asker, name: str,
            quarter: str | None) -> dict[str, Any]:
    deck = make_deck(bot.services, who, name, quarter, chat=bot.assistant.chat)
    if job.retried and _in_thread(bot, channel, thread_ts, deck.filename):
        return _done(bot, job, deck.filename, 0.0)  # an earlier attempt uploaded it, then died before noting it
    bot.client.files_upload_v2(channel=channel, thread_ts=thread_ts, content=deck.pptx, filename=deck.filename,
                               title=deck.filename.removesuffix(".pptx").replace("-", " "),
                               initial_comment=_comment(deck))
    return _done(bot, job, deck.filename, deck.seconds)


def _done(bot: Bot, job: Job, filename: str, seconds: float) -> dict[str, Any]:
    job.state["deck_uploaded"] = filename
    bot.inbox.keep(job)
    return {"deck": filename, "seconds": seconds}


def _in_thread(bot: Bot, channel: str, thread_ts: str, filename: str) -> bool:
    """Whether the thread already holds a file of this name that Retain shared (read from Slack)."""
    try:
        r = bot.client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
    except SlackApiError:
        return False  # cannot tell: uploading again beats losing the deck
    return any(f.get("name") == filename for m in r.get("messages") or [] if m.get("bot_id")
               for f in m.get("files") or [])


def from_message(bot: Bot, job: Job, who: Asker, req: dict[str, str | None], thread_ts: str) -> dict[str, Any]:
    """Answer a deck request in its thread: the file, or one sentence saying why not."""
    p, key = job.payload, job.key
    if job.state.get("deck_uploaded"):
        return {"deck": job.state["deck_uploaded"], "note": "already uploaded"}
    if not req.get("account"):
        bot.post(key=f"{key}:deck-note", channel=p["channel"], thread_ts=thread_ts,
                 text="Which account? Say \u201cmake me a QBR deck for Acme\u201d (and a quarter, e.g. for 2026Q3).")
        return {"note": "no account"}
    try:
        return _upload(bot, job, p["channel"], thread_ts, who, str(req["account"]), req.get("quarter"))
    except RetainError as exc:  # no access, no such account, a bad quarter: said once, nothing uploaded
        bot.post(key=f"{key}:deck-note", channel=p["channel"], thread_ts=thread_ts, text=str(exc))
        return {"note": "refused"}


def from_button(bot: Bot, job: Job, asker: Asker) -> dict[str, Any]:
    """The button was clicked: the deck for whoever clicked, if they may see the account; else a private no."""
    p = job.payload
    if job.state.get("deck_uploaded"):
        return {"deck": job.state["deck_uploaded"], "note": "already uploaded"}
    user, channel = p["user"], p["channel"]
    try:
        account_id = int(json.loads(p.get("value") or "{}")["account_id"])
        ctx = bot.services.tool_context(asker)
        name = crm.account_overview(ctx, account_id)["name"]  # refuses an account the clicker may not see
        return _upload(bot, job, channel, p.get("thread_ts") or p["ts"], asker, name, None)
    except (RetainError, KeyError, ValueError) as exc:
        note = str(exc) if isinstance(exc, RetainError) else "That button no longer names an account."
        bot.client.chat_postEphemeral(channel=channel, user=user, text=note)
        return {"note": "refused"}
