"""Tickets, NPS, notes and onboarding of the demo portfolio, and the story arcs on named accounts."""

import math
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from retain.demo.model import Portfolio, sigmoid
from retain.demo.names import ARC_NAMES, DAYS, MILESTONES, TextGen


def tickets_nps_notes(pf: Portfolio, rng: np.random.Generator, txt: TextGen, h: np.ndarray,
                       names: list[str], anchor: date, champions: dict[int, tuple[str, date | None]],
                       account_use: dict[int, str], renewal: list[date]) -> None:
    """Tickets, NPS responses and notes per account, with the story arcs' own records."""
    n = len(h)
    tk_cols = ["id", "external_id", "account_id", "priority", "status", "opened_at", "closed_at",
               "subject", "body"]
    nps_cols = ["id", "external_id", "account_id", "contact_id", "kind", "score", "comment",
                "responded_on"]
    act_cols = ["id", "external_id", "account_id", "kind", "occurred_on", "author", "subject", "body"]
    owner_name = {}
    csm_names = {row[0]: row[1] for row in pf.tables["csms"]}
    for row in pf.tables["accounts"]:
        owner_name[row[0]] = csm_names[row[7]]
    tid = sid = nid = 0

    def ticket(aid: int, days_ago: int, prio: str, status: str, subject: str, body: str) -> None:
        nonlocal tid
        tid += 1
        opened = datetime.combine(anchor - timedelta(days=days_ago), datetime.min.time()) + timedelta(
            hours=int(rng.integers(8, 18)))
        closed = None if status != "closed" else opened + timedelta(days=int(rng.integers(1, 9)))
        if closed is not None:  # a closed ticket was closed by now, never after the demo's today
            closed = max(opened, min(closed, datetime.combine(anchor, datetime.min.time()) + timedelta(hours=8)))
        pf.add("tickets", tk_cols, (tid, f"DEMO-T{tid:07d}", aid, prio, status,
                                    opened.isoformat(sep=" "),
                                    closed.isoformat(sep=" ") if closed else None, subject, body))

    def nps(aid: int, days_ago: int, score: int, comment: str) -> None:
        nonlocal sid
        sid += 1
        pf.add("survey_responses", nps_cols, (sid, f"DEMO-S{sid:07d}", aid, None, "nps", score,
                                              comment, (anchor - timedelta(days=days_ago)).isoformat()))

    def note(aid: int, days_ago: int, kind: str, subject: str, body: str) -> None:
        nonlocal nid
        nid += 1
        pf.add("activities", act_cols, (nid, f"DEMO-N{nid:07d}", aid, kind,
                                        (anchor - timedelta(days=days_ago)).isoformat(),
                                        owner_name[aid], subject, body))

    arcs = set(range(len(ARC_NAMES)))
    for i in range(n):
        aid = i + 1
        champ, left = champions.get(aid, ("our main contact", None))
        use = account_use[aid]
        name = names[i]
        if i not in arcs or name.startswith("Vandelay"):
            for _ in range(int(rng.poisson(3.0 * math.exp(-0.45 * h[i])))):
                ago = int(rng.integers(1, DAYS))
                subject, body = txt.ticket(h[i])
                high = rng.random() < float(sigmoid(-1.0 - 0.9 * h[i]))
                status = "open" if ago < 20 and rng.random() < 0.6 else "closed"
                ticket(aid, ago, "high" if high else "normal", status, subject, body)
            for _ in range(int(rng.integers(1, 3))):
                score = int(np.clip(round(7.4 + 1.5 * h[i] + rng.normal(0, 1.2)), 0, 10))
                nps(aid, int(rng.integers(5, DAYS)), score, txt.nps_comment(score, use))
            for _ in range(int(rng.integers(4, 9))):
                tone = float(np.tanh(0.6 * h[i] + rng.normal(0, 0.4)))
                kind, subject, body = txt.note(tone, champ if not left else "the new contact",
                                               name, use)
                note(aid, int(rng.integers(1, DAYS)), kind, subject, body)
            if left:
                note(aid, (anchor - left).days, "note", f"CSM note: {name}",
                     f"Heads up: {champ} (our champion) has left {name}. Need to find a new "
                     "sponsor before renewal.")
            if i in arcs:  # the Vandelays: generated records, then their arc's own (notes draw nothing random)
                _arc_records(name, aid, ticket, nps, note, renewal[i])
            continue
        _arc_records(name, aid, ticket, nps, note, renewal[i])


ARCS_FILE = Path(__file__).with_name("arcs.yaml")


@cache
def _arcs() -> dict[str, Any]:
    return yaml.safe_load(ARCS_FILE.read_text())


def _arc_records(name: str, aid: int, ticket: Any, nps: Any, note: Any, renewal: date) -> None:
    """The story arc's own records for a named account (from arcs.yaml)."""
    arc = _arcs().get(name) or {}
    for t in arc.get("tickets", []):
        ticket(aid, t["days_ago"], t["priority"], t["status"], t["subject"], t["body"].format(renewal=renewal))
    for r in arc.get("nps", []):
        nps(aid, r["days_ago"], r["score"], r["comment"].format(renewal=renewal))
    for n in arc.get("notes", []):
        note(aid, n["days_ago"], n["kind"], n["subject"], n["body"].format(renewal=renewal))


def onboarding_plans(pf: Portfolio, rng: np.random.Generator, h: np.ndarray, names: list[str],
                onboarding: np.ndarray, start: np.ndarray, anchor: date) -> None:
    """Onboarding plans and milestones, late and blocked more on unhealthy accounts."""
    plan_cols = ["id", "account_id", "name", "started_on", "target_date", "status"]
    ms_cols = ["id", "plan_id", "seq", "name", "owner", "due_date", "completed_date", "status",
               "updated_on"]
    pid = mid = 0
    for i in np.flatnonzero(onboarding):
        aid = int(i) + 1
        began: date = start[i]
        pid += 1
        pf.add("onboarding_plans", plan_cols, (pid, aid, f"{names[i]} onboarding",
                                               began.isoformat(),
                                               (began + timedelta(days=75)).isoformat(), "active"))
        stuck_at = None
        if names[i] == "Cyberdyne Systems":
            stuck_at = 1
        elif h[i] < -0.7:
            stuck_at = int(rng.integers(1, 5))
        pace = 1.0 if h[i] > 0 else 1.3
        for s, mname in enumerate(MILESTONES):
            mid += 1
            due = began + timedelta(days=int((7 + 13 * s) * 1.0))
            done_day = began + timedelta(days=int((5 + 13 * s) * pace))
            owner = "CSM" if s in (0, 5) else ("Customer IT" if s == 1 else "Customer team")
            if stuck_at is not None and s >= stuck_at:
                status = "blocked" if s == stuck_at else "pending"
                completed = None
                updated = anchor - timedelta(days=10 if s == stuck_at else 30)
            elif done_day <= anchor:
                status, completed, updated = "done", done_day, done_day
            else:
                status = "in_progress" if due - anchor < timedelta(days=14) else "pending"
                completed, updated = None, anchor - timedelta(days=int(rng.integers(1, 10)))
            pf.add("milestones", ms_cols, (mid, pid, s + 1, mname, owner, due.isoformat(),
                                           completed.isoformat() if completed else None, status,
                                           updated.isoformat()))
