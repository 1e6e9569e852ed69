"""What the workers do with each inbox item: answer a question, run a command, decide a draft, publish Home."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from core.errors import AccessDenied, NotFoundError, RetainError
from core.faults import fault
from integrations.crm.models import CSM, Outbox, SlackInbox
from integrations.slack import blocks
from integrations.slack.charts import health_trend_png
from integrations.slack.client import marker
from integrations.slack.job import Job
from integrations.slack.safe import clean
from retain.slack import agent, decks
from retain.slack.bot import Bot
from tools import crm, decisions, onboarding
from tools.access import DECIDE_REFUSAL, Asker
from tools.feedback import record as record_feedback
from tools.health import weekly_scores

log = logging.getLogger("retain.slack")
COMMANDS = {
    "at-risk": "which of my accounts are at risk?",
    "brief": "which of my accounts need attention, and what renews in the next 90 days?",
    "help": "help",
}
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def refuse(bot: Bot, job: Job, note: str) -> dict[str, Any]:
    """Tell a sender who is not an active person why they get nothing (where there is someone to tell)."""
    kind, p = job.kind, job.payload
    user, channel = str(p.get("user") or ""), str(p.get("channel") or "")
    if kind == "question":
        bot.post(key=f"{job.key}:note", channel=channel, thread_ts=p.get("thread_ts") or p["ts"], text=note)
    elif not SLACK_USER.match(user):  # a forged or missing id: nobody in Slack to tell
        pass
    elif kind == "home":
        bot.client.views_publish(user_id=user, view={"type": "home", "blocks": [blocks._section(note)]})
    elif kind == "assistant_thread" and channel and p.get("thread_ts"):
        bot.post(channel=channel, thread_ts=p["thread_ts"], text=note)
    elif kind in ("command", "decision", "feedback") and channel:
        bot.client.chat_postEphemeral(channel=channel, user=user, text=note)
    return {"note": "refused"}


def answer(bot: Bot, job: Job, asker: Asker) -> dict[str, Any]:
    """Answer a mention or DM in its thread: placeholder first, then the answer and any approvals."""
    p, key, state = job.payload, job.key, job.state
    thread_ts = p.get("thread_ts") or p["ts"]
    who, note = bot.scoped(asker, p["channel"], p.get("channel_type", ""))
    if who is None:
        r = bot.post(key=f"{key}:note", channel=p["channel"], thread_ts=thread_ts, text=note)
        return {"ts": r["ts"], "note": "refused"}
    question = re.sub(r"<@[UW][A-Z0-9]+>", "", p.get("text", "")).strip()
    deck = decks.asked(question)
    if deck is not None:  # "make me a QBR deck for Acme": a file in the thread, not an answer
        return decks.from_message(bot, job, who, deck, thread_ts)
    what = question[:60] + ("…" if len(question) > 60 else "")
    if (p.get("channel_type") == "im" and p.get("thread_ts") and not state.get("placeholder")
            and agent.set_status(bot, p["channel"], thread_ts, "is looking into it…",
                                 [f"reading “{what}”", "finding the accounts"])):
        return _answer_in_assistant_thread(bot, job, question, who, thread_ts)
    mark = f"{key}:answer"
    if not state.get("placeholder") and job.retried:  # died before storing it?
        found = bot.posted(mark, p["channel"], thread_ts)
        if found is not None:
            state["placeholder"] = found["ts"]
    if not state.get("placeholder"):  # a retry, or a worker taking over, reuses the placeholder already posted
        ph = bot.post(key=mark, channel=p["channel"], thread_ts=thread_ts, text=f"Looking into “{clean(what)}”…",
                      blocks=blocks.placeholder(f"Looking into “{what}”…"))
        state["placeholder"] = ph["ts"]
        fault("after_placeholder")
    bot.inbox.keep(job)
    fault("after_placeholder_kept")
    thread = f"slack:{p['channel']}:{thread_ts}"
    result = bot.assistant.ask(question, who, thread)
    text, bl = _with_deck_button(question, result, *blocks.answer(result, bot.config.link_hosts,
                                                                  feedback_ref=f"answer|{key}"))
    bot.client.chat_update(channel=p["channel"], ts=state["placeholder"], text=text, blocks=bl,
                           metadata=marker(mark))
    if result.get("pending"):
        bot.inbox.hold(job)  # a worker that stalled in the answer and lost the item posts no second set
    for i, d in enumerate(result.get("pending", [])):
        t, b = blocks.approval(d, thread)
        bot.post(key=f"{key}:approval:{i}", channel=p["channel"], thread_ts=thread_ts, text=t, blocks=b)
    return _answered(state["placeholder"], question, result, text)


def _with_deck_button(question: str, result: Any, text: str,
                      bl: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A QBR prep answer about one account gets the "Make the QBR deck" button before its feedback buttons."""
    button = decks.button_for(question, result)
    if button is None:
        return text, bl
    return text, bl[:-1] + [button, bl[-1]] if bl and bl[-1].get("type") == "context_actions" else bl + [button]


def _answered(ts: str, question: str, result: Any, text: str) -> dict[str, Any]:
    """What the inbox keeps of an answer (feedback reads the question, route and answer back from it)."""
    route: dict[str, Any] = dict(result.get("route") or {})
    return {"ts": ts, "mode": result["answer"].get("mode"), "question": question, "answer": text,
            "route": {"intents": list(route.get("intents") or []), "method": route.get("method"),
                      "accounts": [a.get("name") for a in route.get("accounts") or []]}}


def _answer_in_assistant_thread(bot: Bot, job: Job, question: str, who: Asker,
                                thread_ts: str) -> dict[str, Any]:
    """The AI-app way: a live status that follows the work, then the verified answer posted in the thread."""
    p, key, state = job.payload, job.key, job.state
    thread = f"slack:{p['channel']}:{thread_ts}"
    first = bot.assistant.is_new(thread)

    def kept(ts: str) -> None:  # the stream's ts with the claim: a worker taking over finishes this message
        state["stream"] = ts
        bot.inbox.keep(job)
        fault("after_stream_kept")

    shown = agent.Progress(bot, p["channel"], thread_ts, p["user"], p.get("team"), resume=state.get("stream"),
                           on_stream=kept)
    try:
        result = bot.assistant.ask(question, who, thread, progress=shown)
    except Exception:
        shown.abort()  # never leave "working on it" or an open plan behind; the inbox retries the item
        raise
    if first:
        agent.set_title(bot, p["channel"], thread_ts, question)
    text, bl = _with_deck_button(question, result, *blocks.answer(
        result, bot.config.link_hosts, feedback_ref=f"answer|{key}"))
    ts = shown.finish(text, bl)  # the verified answer closes the streamed plan
    posted = {"ts": ts} if ts else bot.post(key=f"{key}:answer", channel=p["channel"], thread_ts=thread_ts,
                                            text=text, blocks=bl)
    agent.set_status(bot, p["channel"], thread_ts, "")  # cleared explicitly: a stream may not clear it
    for i, d in enumerate(result.get("pending", [])):
        t, b = blocks.approval(d, thread)
        bot.post(key=f"{key}:approval:{i}", channel=p["channel"], thread_ts=thread_ts, text=t, blocks=b)
    return {**_answered(posted["ts"], question, result, text), "status": True}


def feedback(bot: Bot, job: Job) -> dict[str, Any]:
    """Keep a thumbs up or down: one vote per person per message (the last wins); thank the person.

    The voter is the person who clicked. What they rated (question, route, answer, who asked) is read
    from what Retain stored for the message they clicked; the button's value only names it, and a value
    that names anything other than the clicked message is ignored.
    """
    p = job.payload
    verdict, _, ref = str(p.get("value", "")).partition("|")
    kind, _, ident = ref.partition("|")
    rated = _rated(bot, kind, ident, str(p.get("channel") or ""), str(p.get("ts") or ""))
    if verdict not in ("good", "bad") or rated is None:
        return {"note": "ignored"}
    stored = record_feedback(bot.services.store, voter=p["user"], value=verdict, kind=kind, target=ident,
                             clicked=p.get("clicked"), channel=p.get("channel"), message_ts=p.get("ts"), **rated)
    if stored:
        note = ("Thanks, noted." if verdict == "good" else
                "Thanks, noted as not useful. Your Retain team reviews these and turns them into test cases.")
        bot.client.chat_postEphemeral(channel=p["channel"], user=p["user"], text=note)
    return {"stored": stored, "value": verdict}


def _rated(bot: Bot, kind: str, ident: str, channel: str, ts: str) -> dict[str, Any] | None:
    """What Retain posted as the clicked message (question, route, answer, asker), or None if it is not that."""
    if not ident or not ts:
        return None
    with bot.services.store.session() as s:
        if kind == "answer":
            row = s.get(SlackInbox, ident)
            if row is None or row.kind != "question" or not row.result or row.payload.get("channel") != channel \
                    or row.result.get("ts") != ts:
                return None
            asker = _email(bot, str(row.payload.get("user") or ""))
            return {"question": row.result.get("question"), "route": row.result.get("route"),
                    "answer": row.result.get("answer"), "asker": asker}
        if kind == "briefing":
            job, _, slot = ident.partition("|")
            sent = s.scalars(select(Outbox).where(Outbox.job == job, Outbox.slot == slot,
                                                  Outbox.status == "sent")).first()
            if sent is None or sent.ts != ts:
                return None
            return {"question": None, "route": None, "answer": sent.text, "asker": _email(bot, sent.recipient)}
    return None


def _email(bot: Bot, slack_user: str) -> str | None:
    """The email of the person with this Slack user id (deactivated or not), None if nobody has it."""
    with bot.services.store.session() as s:
        return s.scalar(select(CSM.email).where(CSM.slack_user_id == slack_user))


def command(bot: Bot, job: Job, asker: Asker) -> dict[str, Any]:
    """Run a /retain command; replies are ephemeral, approvals go to the CSM's DM."""
    p = job.payload
    text = p["text"].strip()
    verb, _, rest = text.partition(" ")
    verb = verb.lower()
    who, note = bot.scoped(asker, p["channel"], "im" if p["channel"].startswith("D") else "")
    if who is None:
        bot.client.chat_postEphemeral(channel=p["channel"], user=p["user"], text=note)
        return {"note": "refused"}
    if verb == "account" and rest:
        return _account_card(bot, job, who, rest)
    if verb == "renewals":
        days = int(rest) if rest.strip().isdigit() else 90
        question = f"which of my renewals are due in the next {days} days?"
    elif verb == "remember" and rest:
        question = f"remember {rest}"
    else:
        question = COMMANDS.get(verb, "help")
    thread = f"slack-cmd:{p['user']}:{time.time_ns()}"
    result = bot.assistant.ask(question, who, thread)
    t, b = blocks.answer(result, bot.config.link_hosts)
    bot.client.chat_postEphemeral(channel=p["channel"], user=p["user"], text=t, blocks=b)
    for i, d in enumerate(result.get("pending", [])):  # approvals go to the CSM's DM, where they can be updated
        at, ab = blocks.approval(d, thread)
        bot.post(key=f"{job.key}:approval:{i}", channel=p["user"], text=at, blocks=ab)
    return {"command": verb}

def _account_card(bot: Bot, job: Job, who: Asker, name: str) -> dict[str, Any]:
    """`/retain account NAME`: the card once (a retry does not post it again), then its chart if it can be had."""
    p, state = job.payload, job.state
    ctx = bot.services.tool_context(who)
    try:
        account = crm.find_account(ctx, name)
        aid = account["account_id"]
        if not state.get("card_posted"):
            t, b = blocks.card(crm.account_overview(ctx, aid), crm.health_breakdown(ctx, aid),
                               crm.renewal_outlook(ctx, aid), crm.onboarding_status(ctx, aid),
                               crm.list_tickets(ctx, aid))
    except RetainError as exc:
        t, b, aid = str(exc), [], None
    if not state.get("card_posted"):
        bot.client.chat_postEphemeral(channel=p["channel"], user=p["user"], text=t, blocks=b or None)
        state["card_posted"] = True
    if aid is not None:
        try:  # the chart is a picture of the card: failing to draw or upload it never fails the card
            weeks, scores = weekly_scores(ctx.store, ctx.card, ctx.as_of, aid)
            png = health_trend_png(account["name"], weeks, scores, ctx.card.bands)
            bot.client.files_upload_v2(channel=p["channel"], content=png, filename="health-trend.png",
                                       title=f"Health trend: {account['name']}")
        except Exception as exc:  # noqa: BLE001 - logged by kind; the card is already with the person
            log.warning("health-trend chart for account %s not shown: %s", aid, type(exc).__name__)
    return {"card": name}


def decision(bot: Bot, job: Job, asker: Asker) -> dict[str, Any]:
    """Approve, edit or skip a draft, if this person may; update the approval message."""
    p = job.payload
    value = json.loads(p["value"])
    choice = {"retain_approve": "approve", "retain_skip": "skip", "retain_edit_submit": "edit"}[p["action"]]
    user = p["user"]
    shown = value.get("draft")  # the draft on the button: exactly that one is decided, never another
    if not bot.assistant.may_decide(value["thread"], asker, shown):
        if bot.assistant.pending_draft(value["thread"], shown) is None:
            return _decided_before(bot, job, asker, value["thread"], shown)
        bot.client.chat_postEphemeral(channel=p["channel"], user=user, text=DECIDE_REFUSAL)
        return {"note": "refused"}
    draft = bot.assistant.pending_draft(value["thread"], shown)
    try:
        result = bot.assistant.decide(value["thread"], choice, asker, p.get("text"), draft_id=shown, click=job.key)
    except (AccessDenied, NotFoundError):
        bot.client.chat_postEphemeral(channel=p["channel"], user=user, text=DECIDE_REFUSAL)
        return {"note": "refused"}
    except Exception:  # e.g. two clicks resuming the thread at once: another click's decision is no failure
        done = decisions.recorded(bot.services.store, draft["id"]) if draft else None
        if done is None or not done.click or done.click == job.key:
            raise  # undecided, or decided by this click: the retry finishes (and updates the message)
        return {"note": "already decided"}
    if not result.get("actions"):
        return {"note": "already decided"}
    action = result["actions"][0]
    if action.get("click"):  # the click that made the decision on record updates the message, no other
        mine = action["click"] == job.key  # (a concurrent resume can even hand this click the other's result)
    else:  # a decision recorded before clicks were named
        mine = not action.get("already_done") or job.retried
    if not mine:
        return {"note": "already decided"}  # another click got there first and updates the message
    return _show_decision(bot, job, asker, draft, action)


def _decided_before(bot: Bot, job: Job, asker: Asker, thread: str, shown: str | None) -> dict[str, Any]:
    """The draft is no longer waiting: update the message if this click decided it, else leave it be.

    An earlier attempt of this click may have decided and died before updating the message; a decision
    another click made is that click's to show.
    """
    done = decisions.recorded(bot.services.store, shown) if shown else None
    if done is None or not done.click or done.click != job.key:
        return {"note": "already decided"}
    action = {"draft_id": shown, "decision": done.decision, "already_done": True, **done.result}
    return _show_decision(bot, job, asker, bot.assistant.proposed(thread, str(shown)), action)


def _show_decision(bot: Bot, job: Job, asker: Asker, draft: Mapping[str, Any] | None,
                   action: Mapping[str, Any]) -> dict[str, Any]:
    """The approval message becomes the decision: the draft as decided, who decided, what happened."""
    p = job.payload
    body = (p.get("text") or (draft or {}).get("body", ""))
    subject = (draft or {}).get("subject", "Draft")
    bot.client.chat_update(channel=p["channel"], ts=p["ts"], text=f"{subject}: {action['decision']}",
                           blocks=blocks.decided(f"*{clean(subject)}*\n{clean(body)}", asker.name, action))
    return {"decision": action["decision"], "already_done": action.get("already_done", False)}


def home(bot: Bot, job: Job, asker: Asker) -> dict[str, Any]:
    """Publish App Home: at-risk accounts, renewals ahead, overdue onboarding (the person was checked)."""
    p = job.payload
    ctx = bot.services.tool_context(asker)
    risk = crm.portfolio(ctx, segment="at risk", limit=10)["accounts"]
    ren = sorted(crm.portfolio(ctx, renewal_within_days=90, limit=50)["accounts"],
                 key=lambda r: r["days_to_renewal"] or 0)  # never None within a renewal window
    mine = [r["account_id"] for r in crm.portfolio(ctx, limit=500)["accounts"]]
    overdue = onboarding.overdue(ctx.store, ctx.as_of, mine)
    bot.client.views_publish(user_id=p["user"], view=blocks.home(ctx.viewer.name, risk, ren, overdue))
    return {"published": True}


