"""The outbox: every message Retain sends is a row keyed by (job, slot, recipient), written before it is sent.

`deliver` marks a row sent with Slack's ts after posting, retries with backoff, dead-letters with an
alert; a repeated run of a job writes nothing new, so nothing is sent twice.

Any number of `deliver` calls may run at once (threads, processes, hosts: every briefing job, the
sweep, the outbox job, `brief --send`, `jobs run`). Each row is *claimed* before it is posted: one
conditional UPDATE sets it `sending` with the caller's id and a lease, and it succeeds for one caller
only. A row under a live claim is someone's post in progress and is left alone. A claim whose lease
ran out means its caller died while posting: the row is reconciled first (the channel's history is
searched for the message's own metadata marker, the outbox key) and marked sent if the message did
go out; it is posted again only when Slack says it is not there (or, logged as a possible duplicate,
when the history cannot be read). A row whose last try failed is reconciled the same way, since Slack
may have processed a post whose answer was lost. Before a row is posted, the caller's `gate` may refuse it (the
recipient was deactivated, or no longer sees an account it names): it is marked `skipped` with why.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

import configs
from core.faults import fault
from core.metrics import metrics
from integrations.crm.models import Outbox
from integrations.crm.store import CRMStore
from integrations.slack import safe

log = logging.getLogger("retain.outbox")
MARKER = "retain_outbox"  # the metadata event type on every outbox message; its payload is the row's key
LEASE_S = 300.0  # a claim's lease when schedules.yaml does not say (longer than any post with its retries)
HISTORY_PAGES = 5  # how far back reconciling looks: the newest 1,000 top-level messages of the channel
Gate = Callable[[str, list[int]], str | None]
"""(channel, account ids the message names) -> why it may no longer be sent, or None."""


def enqueue(store: CRMStore, job: str, slot: str, recipient: str, channel: str, text: str,
            blocks: list[Any] | None = None, accounts: list[int] | None = None,
            not_before: datetime | None = None) -> tuple[str, bool]:
    """Write a message to the outbox once per (job, slot, recipient); (key, newly written).

    `accounts` are the accounts it names, so delivery can check the recipient still sees them;
    `not_before` (local time) holds it until then: `deliver` sends only rows that are due.
    """
    key = f"{job}|{slot}|{recipient}"
    now = datetime.now()
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(Outbox).values(key=key, job=job, slot=slot, recipient=recipient, channel=channel,
                                               text=text, blocks=blocks, status="pending", attempts=0,
                                               next_try_at=not_before or now, created_at=now,
                                               accounts=sorted({int(a) for a in accounts or []}) or None))
        return key, True
    except IntegrityError:
        return key, False


def _due(now: datetime) -> Any:
    """Rows to send now: pending and due, or `sending` under a claim that ran out (or none, from before claims)."""
    return or_((Outbox.status == "pending") & (Outbox.next_try_at <= now),
               (Outbox.status == "sending") & (Outbox.lease_until.is_(None) | (Outbox.lease_until < now)))


def _claim(store: CRMStore, key: str, me: str, now: datetime, lease: timedelta) -> tuple[Outbox, bool] | None:
    """Take the row for this call (row, whether a dead caller's claim was taken over), or None if another has it."""
    claimed = {"status": "sending", "claimed_by": me, "lease_until": now + lease}
    with store.engine.begin() as conn:
        fresh = conn.execute(update(Outbox).where(Outbox.key == key, Outbox.status == "pending",
                                                  Outbox.next_try_at <= now).values(**claimed)).rowcount
        taken = 0 if fresh else conn.execute(update(Outbox).where(
            Outbox.key == key, Outbox.status == "sending",
            Outbox.lease_until.is_(None) | (Outbox.lease_until < now)).values(**claimed)).rowcount
    if not (fresh or taken):
        return None
    with store.session() as s:
        row = s.get(Outbox, key)
        if row is None or row.claimed_by != me:
            return None
        s.expunge(row)
    return row, bool(taken)


def _settle(store: CRMStore, key: str, me: str, **values: Any) -> bool:
    """Write the outcome if this call still holds the claim (False: its lease ran out and another took it)."""
    with store.engine.begin() as conn:
        return bool(conn.execute(update(Outbox).where(Outbox.key == key, Outbox.claimed_by == me)
                                 .values(lease_until=None, **values)).rowcount)


def posted_ts(client: Any, channel: str, key: str) -> tuple[str | None, bool]:
    """Whether Slack has this outbox message: (its ts, True), (None, True) if surely not, (None, False) if unknown.

    Looks through the channel's newest top-level messages for the metadata marker with this key (no
    time bound: hosts' clocks and timezones need not agree with Slack's). A person's id is first
    opened as their DM with the app.
    """
    try:
        if channel[:1] in ("U", "W"):
            channel = client.conversations_open(users=channel)["channel"]["id"]
        cursor = None
        for _ in range(HISTORY_PAGES):
            resp = client.conversations_history(channel=channel, limit=200, include_all_metadata=True,
                                                **({"cursor": cursor} if cursor else {}))
            for m in resp.get("messages") or []:
                meta = m.get("metadata") or {}
                if meta.get("event_type") == MARKER and (meta.get("event_payload") or {}).get("key") == key:
                    return str(m.get("ts", "")), True
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not resp.get("has_more") or not cursor:
                return None, True
        return None, False
    except Exception as exc:  # noqa: BLE001 - no history scope, Slack down: the caller decides
        log.warning("outbox %s: could not read %s's history to check for an earlier post: %s", key, channel,
                    type(exc).__name__)
        return None, False


def deliver(store: CRMStore, client: Any, now: datetime | None = None, cfg: dict[str, Any] | None = None,
            gate: Gate | None = None, on_sent: Callable[[str, str], None] | None = None) -> dict:
    """Send what is due, each row by whichever caller claims it; counts of what this call did.

    sent, retry, dead; also skipped (refused by `gate`), reconciled (an earlier try's post found in
    Slack and marked sent) and possible_duplicates (posted again with no way to check) when non-zero.
    `on_sent(key, ts)` is called for each message this call posted (not for one found already posted).
    """
    cfg = cfg or configs.load("schedules")["outbox"]
    now = now or datetime.now()
    lease = timedelta(seconds=float(cfg.get("lease_s", LEASE_S)))
    me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    counts = {"sent": 0, "retry": 0, "dead": 0}

    def count(what: str) -> None:
        counts[what] = counts.get(what, 0) + 1

    with store.session() as s:
        due = list(s.scalars(select(Outbox.key).where(_due(now)).order_by(Outbox.created_at)))
    for key in due:
        got = _claim(store, key, me, now, lease)
        if got is None:
            continue  # another caller is posting it (or just did)
        row, taken_over = got
        if taken_over or row.attempts:  # a dead sender, or a failed try that Slack may have processed anyway
            ts, known = posted_ts(client, row.channel, key)
            if ts:
                log.warning("outbox %s: an earlier try did post it (ts %s); marked sent, not posted again", key, ts)
                if _settle(store, key, me, status="sent", ts=ts, sent_at=datetime.now(), last_error=None):
                    count("reconciled")
                    metrics().outbox_sent.inc()
                continue
            if taken_over and not known:
                log.warning("outbox %s: its sender died while posting and Slack's history could not be checked; "
                            "posting again may duplicate it", key)
                count("possible_duplicates")
        why = gate(row.channel, list(row.accounts or [])) if gate is not None else None
        if why:
            log.info("outbox %s skipped: %s", key, why)
            if _settle(store, key, me, status="skipped", last_error=why[:300]):
                count("skipped")
            continue
        try:
            # One safe rendering whatever was queued (a raw client in a test gets it too).
            msg = safe.message({"text": row.text, "blocks": row.blocks}, getattr(client, "link_hosts", ()))
            resp = client.chat_postMessage(channel=row.channel, text=msg["text"], blocks=msg["blocks"],
                                           unfurl_links=False, unfurl_media=False,
                                           metadata={"event_type": MARKER, "event_payload": {"key": key}})
            ts, error = str(resp.get("ts", "")), None
            fault("after_post")
        except Exception as exc:  # noqa: BLE001 - any failure is retried; the reason is kept (no payload)
            ts, error = None, f"{type(exc).__name__}: {str(exc)[:200]}"
        attempts = row.attempts + 1
        if error is None:
            outcome: dict[str, Any] = {"status": "sent", "ts": ts, "sent_at": datetime.now(), "last_error": None}
        elif attempts >= int(cfg["max_attempts"]):
            outcome = {"status": "dead", "last_error": error}
        else:
            backoff = cfg["backoff_s"][min(attempts - 1, len(cfg["backoff_s"]) - 1)]
            outcome = {"status": "pending", "last_error": error, "next_try_at": now + timedelta(seconds=float(backoff))}
        if not _settle(store, key, me, attempts=attempts, **outcome):
            log.warning("outbox %s: the claim ran out while posting; the caller that took it over reconciles it", key)
            continue
        count(outcome["status"] if outcome["status"] in ("sent", "dead") else "retry")
        if outcome["status"] == "sent":
            metrics().outbox_sent.inc()
            if on_sent is not None and ts:
                on_sent(key, ts)
        elif outcome["status"] == "dead":
            metrics().outbox_dead.inc()
            if cfg.get("admin_channel"):
                log.error("outbox %s dead after %s tries: %s", key, cfg["max_attempts"], error)
                try:
                    client.chat_postMessage(channel=cfg["admin_channel"], text=f":warning: Retain could not deliver "
                                            f"`{key}` after {cfg['max_attempts']} tries ({error}).")
                except Exception:  # noqa: BLE001 - the dead letter is in the table either way
                    log.exception("admin alert failed")
    return counts
