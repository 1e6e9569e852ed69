"""The outbox: every message Retain sends is a row keyed by (job, slot, recipient), written before it is sent.

`deliver` marks a row sent with Slack's ts after posting, retries with backoff, dead-letters with an
alert; a repeated run of a job writes nothing new, so nothing is sent twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

import configs
from core.faults import fault
from core.metrics import metrics
from integrations.crm.models import Outbox
from integrations.crm.store import CRMStore
from integrations.slack import safe

log = logging.getLogger("retain.outbox")


def enqueue(store: CRMStore, job: str, slot: str, recipient: str, channel: str, text: str,
            blocks: list[Any] | None = None, not_before: datetime | None = None) -> tuple[str, bool]:
    """Write a message to the outbox once per (job, slot, recipient); (key, newly written).

    `not_before` (local time) holds it until then: `deliver` sends only rows that are due.
    """
    key = f"{job}|{slot}|{recipient}"
    now = datetime.now()
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(Outbox).values(key=key, job=job, slot=slot, recipient=recipient, channel=channel,
                                               text=text, blocks=blocks, status="pending", attempts=0,
                                               next_try_at=not_before or now, created_at=now))
        return key, True
    except IntegrityError:
        return key, False


def deliver(store: CRMStore, client: Any, now: datetime | None = None, cfg: dict[str, Any] | None = None) -> dict:
    """Send what is due; mark sent with the ts; back off on failure; dead-letter with an alert."""
    cfg = cfg or configs.load("schedules")["outbox"]
    now = now or datetime.now()
    counts = {"sent": 0, "retry": 0, "dead": 0}
    with store.session() as s:
        due = list(s.scalars(select(Outbox.key).where(Outbox.status.in_(("pending", "sending")),
                                                      Outbox.next_try_at <= now).order_by(Outbox.created_at)))
    for key in due:
        with store.session() as s:
            row = s.get(Outbox, key)
            if row is None or row.status not in ("pending", "sending"):
                continue
            if row.status == "sending":  # a previous process died between posting and marking it sent
                log.warning("outbox %s: the last send crashed after posting; sending again may duplicate it", key)
                counts["possible_duplicates"] = counts.get("possible_duplicates", 0) + 1
            row.status = "sending"
            channel, text, blocks = row.channel, row.text, row.blocks
            s.commit()
        try:
            # One safe rendering whatever was queued (a raw client in a test gets it too).
            msg = safe.message({"text": text, "blocks": blocks}, getattr(client, "link_hosts", ()))
            resp = client.chat_postMessage(channel=channel, text=msg["text"], blocks=msg["blocks"],
                                           unfurl_links=False, unfurl_media=False)
            ts, error = str(resp.get("ts", "")), None
            fault("after_post")
        except Exception as exc:  # noqa: BLE001 - any failure is retried; the reason is kept (no payload)
            ts, error = None, f"{type(exc).__name__}: {str(exc)[:200]}"
        with store.session() as s:
            row = s.get(Outbox, key)
            if row is None:
                continue
            row.attempts += 1
            if error is None:
                row.status, row.ts, row.sent_at, row.last_error = "sent", ts, datetime.now(), None
                counts["sent"] += 1
                metrics().outbox_sent.inc()
            elif row.attempts >= int(cfg["max_attempts"]):
                row.status, row.last_error = "dead", error
                counts["dead"] += 1
                metrics().outbox_dead.inc()
            else:
                backoff = cfg["backoff_s"][min(row.attempts - 1, len(cfg["backoff_s"]) - 1)]
                row.next_try_at, row.last_error = now + timedelta(seconds=float(backoff)), error
                row.status = "pending"
                counts["retry"] += 1
            dead = row.status == "dead"
            s.commit()
        if dead and cfg.get("admin_channel"):
            log.error("outbox %s dead after %s tries: %s", key, cfg["max_attempts"], error)
            try:
                client.chat_postMessage(channel=cfg["admin_channel"], text=f":warning: Retain could not deliver "
                                        f"`{key}` after {cfg['max_attempts']} tries ({error}).")
            except Exception:  # noqa: BLE001 - the dead letter is in the table either way
                log.exception("admin alert failed")
    return counts
