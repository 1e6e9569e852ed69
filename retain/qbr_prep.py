"""The scheduled QBR prep: before a review meeting or a renewal, the account's owner gets its deck in a DM.

`configs/schedules.yaml` (`qbr_prep`) says when the job runs and how far ahead it looks: an account
with a QBR/EBR/business review meeting in the CRM within `meeting_days_before` days, or a renewal
within `renewal_days_before` days, gets one DM to its owner per event (the outbox key is the job,
the account and the event's date, so a second run, or a second scheduler, sends nothing new). Once
the DM is out (by this job or the outbox job), the deck, built as the owner, is uploaded into its
thread; a kept marker per message makes that once too, and a failed upload is tried again on the
next run. Delivery re-checks that the owner still sees the account.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from integrations.crm.models import CSM, Account, Outbox
from integrations.outbox import enqueue
from integrations.scheduler import load_schedules
from retain import jobs
from retain.decks import make_deck
from tools import qbr_data
from tools.access import OPERATOR

log = logging.getLogger("retain.jobs")
JOB = "qbr:prep"
MARK = "qbr_prep_deck:"  # retain_meta key prefix: the deck of this outbox message was uploaded


def run() -> dict[str, Any]:
    """Queue one DM per account and coming event, deliver, then upload each delivered DM's deck once."""
    rt = jobs._rt()
    cfg = load_schedules()["qbr_prep"]
    events = qbr_data.upcoming_reviews(rt.tool_context(OPERATOR), int(cfg["meeting_days_before"]),
                                       int(cfg["renewal_days_before"]))
    with rt.store.session() as s:
        owners = {c.id: c for c in s.scalars(select(CSM).where(CSM.active.is_(True), CSM.slack_user_id.isnot(None)))}
    queued = 0
    first: dict[int, qbr_data.Review] = {}
    for e in events:  # the earliest event per account
        first.setdefault(e["account_id"], e)
    for e in first.values():
        csm = owners.get(e["owner_id"]) if e["owner_id"] is not None else None
        if csm is None or not csm.slack_user_id:
            continue
        what = "QBR" if e["what"] == "review" else "renewal"
        text = (f"Your QBR deck for {e['account']} is in this thread: its {what} is on {e['when']}. Every number's "
                "source is in the slides' speaker notes; the charts are editable.")
        _, new = enqueue(rt.store, JOB, f"{e['account_id']}:{e['when']}", csm.slack_user_id, csm.slack_user_id,
                         text, None, [e["account_id"]])
        queued += new
    sent = jobs.deliver_outbox()
    return {"events": len(first), "queued": queued, **sent, **attach()}


def attach(days: int = 60) -> dict[str, int]:
    """Upload the deck into each delivered QBR prep DM that does not have it yet."""
    rt = jobs._rt()
    since = jobs._now() - timedelta(days=days)
    with rt.store.session() as s:
        rows = s.execute(select(Outbox.key, Outbox.channel, Outbox.ts, Outbox.accounts).where(
            Outbox.job == JOB, Outbox.status == "sent", Outbox.ts.isnot(None), Outbox.created_at >= since)).all()
    uploaded, failed = 0, 0
    for key, channel, ts, accounts in rows:
        if rt.store.get_meta(MARK + key) or not accounts:
            continue
        try:
            with rt.store.session() as s:
                email = s.scalar(select(CSM.email).where(CSM.slack_user_id == channel))
                name = s.scalar(select(Account.name).where(Account.id == int(accounts[0])))
            deck = make_deck(rt, email or "", str(name), None, chat=jobs.assistant().chat)
            dm = jobs.client().conversations_open(users=channel)["channel"]["id"]
            jobs.client().files_upload_v2(channel=dm, thread_ts=ts, content=deck.pptx, filename=deck.filename,
                                          title=deck.filename.removesuffix(".pptx").replace("-", " "))
            rt.store.set_meta(MARK + key, deck.filename)
            uploaded += 1
        except Exception as exc:  # noqa: BLE001 - one account's deck must not stop the others; retried next run
            log.warning("QBR prep deck for %s not uploaded: %s", key, type(exc).__name__)
            failed += 1
    return {"decks": uploaded, "deck_failures": failed}
