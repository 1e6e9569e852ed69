"""Open tickets in the scores agree with the tickets themselves: a ticket closed today is not open today."""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from integrations.crm.models import Ticket
from tools.features import compute_features


def _open_by_status(rt) -> dict[int, int]:
    with rt.store.session() as s:
        rows = s.execute(select(Ticket.account_id, func.count()).where(Ticket.status == "open")
                         .group_by(Ticket.account_id)).all()
    return {int(a): int(n) for a, n in rows}


def test_the_demo_never_closes_a_ticket_after_its_today(rt):
    end_of_today = datetime.combine(rt.settings.as_of(), datetime.min.time()) + timedelta(days=1)
    with rt.store.session() as s:
        late = s.scalar(select(func.count()).where(Ticket.closed_at >= end_of_today))
        unclosed = s.scalar(select(func.count()).where(Ticket.status == "closed", Ticket.closed_at.is_(None)))
    assert late == 0 and unclosed == 0


def test_open_ticket_counts_match_ticket_status_for_every_account(rt):
    features = compute_features(rt.store, rt.settings.as_of())
    by_status = _open_by_status(rt)
    counted = {int(a): int(n) for a, n in features["open_tickets"].items() if n}
    assert counted == by_status


def test_a_ticket_closed_during_today_is_not_open_today(rt):
    today = rt.settings.as_of()
    features = compute_features(rt.store, today)
    aid = int(features.index[0])
    before = int(features.loc[aid, "open_tickets"])
    noon = datetime.combine(today, datetime.min.time()) + timedelta(hours=12)
    with rt.store.session() as s:
        s.add(Ticket(account_id=aid, priority="high", status="closed", opened_at=noon - timedelta(days=2),
                     closed_at=noon, subject="Closed at noon today", body="fixed"))
        s.add(Ticket(account_id=aid, priority="high", status="open", opened_at=noon - timedelta(hours=3),
                     closed_at=None, subject="Opened this morning", body="still open"))
    after = compute_features(rt.store, today)
    assert int(after.loc[aid, "open_tickets"]) == before + 1  # this morning's, not the one closed at noon
    # and as of yesterday, the one closed today was still open (time travel reads closed_at)
    yesterday = compute_features(rt.store, today - timedelta(days=1))
    assert int(yesterday.loc[aid, "open_tickets"]) >= 1
