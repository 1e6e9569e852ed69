"""Tickets, NPS, notes and onboarding of the demo portfolio, and the story arcs on named accounts."""

import math
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

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
            continue
        _arc_records(name, aid, ticket, nps, note, anchor, renewal[i], use)


def _arc_records(name: str, aid: int, ticket: Any, nps: Any, note: Any, anchor: date,
                 renewal: date, use: str) -> None:
    if name == "Acme Corp":
        nps(aid, 40, 10, "Best vendor we work with. The support copilot cut handle time by 30%.")
        nps(aid, 120, 9, "Fast, reliable, and our CSM knows our roadmap.")
        ticket(aid, 60, "normal", "closed", "Question about batch API limits",
               "Can we send 5k requests per batch? Planning a backfill.")
        note(aid, 12, "meeting", "QBR: Acme Corp",
             "QBR with Maria Santos (VP Support) and team. Support copilot now handles 41% of "
             "tier-1 tickets, CSAT up 6 pts. Want to expand to the Berlin office in Q1. Asked "
             "for a session on prompt caching to cut cost.")
        note(aid, 70, "call", "Call notes: Acme Corp",
             "Maria mentioned they'd be a reference customer. Great relationship. Follow up "
             "on case study draft.")
        note(aid, 130, "email", "Email: Acme Corp",
             "Sent the fine-tuning playbook; their ML team plans a small LoRA on support macros.")
    elif name == "Globex":
        note(aid, 22, "email", "Email: Globex",
             "Globex switching their production traffic to nimbus-large v4.0 tomorrow for the "
             "better reasoning evals. Reminded them to load-test first.")
        ticket(aid, 17, "high", "open", "Latency spike since upgrading to v4",
               "Since we moved to nimbus-large v4.0 our p95 went from under 1s to almost 2s. "
               "Our agents are timing out. Nothing changed on our side except the model.")
        ticket(aid, 9, "normal", "open", "Timeouts on long prompts",
               "Requests with ~6k tokens of context hit our 2s client timeout now.")
        note(aid, 8, "call", "Call notes: Globex",
             "Hank (platform lead) is annoyed about latency after the v4 switch. They don't "
             "want to roll back because of quality. Need tuning advice: streaming, smaller "
             "context, maybe v4 for hard queries only.")
        nps(aid, 100, 8, "Good models, a bit pricey.")
    elif name == "Initech":
        nps(aid, 18, 3, "Answers are slow and the last two outages hurt us. Evaluating "
            "alternatives before renewal.")
        nps(aid, 150, 6, "OK product, support could be faster.")
        ticket(aid, 25, "high", "open", "Outage: 503s for 40 minutes",
               "Our claims triage was down for 40 min. Need an RCA.")
        ticket(aid, 11, "high", "open", "Second outage this month",
               "Again 503s. Our COO is asking whether we should switch providers.")
        ticket(aid, 70, "normal", "closed", "Invoice question: token overage",
               "Why did spend jump in August?")
        note(aid, 16, "email", "Email: Initech",
             "Bill Lumbergh (COO) replied to the renewal notice: 'we will need to talk about "
             "price and reliability before we sign anything'. Renewal on "
             f"{renewal.isoformat()}. Need exec sponsor call.")
        note(aid, 40, "meeting", "Meeting notes: Initech",
             "Ops review with Peter and Samir. claims triage works, but they are frustrated "
             "with outages and slow support. asked for SLA credits.")
    elif name == "Cyberdyne Systems":
        note(aid, 68, "meeting", "Kickoff: Cyberdyne Systems",
             "Kickoff done. Goal: roll out the code assistant to 400 engineers by end of "
             "quarter. Success = 60% weekly active. IT (Raj) owns SSO via Okta.")
        note(aid, 45, "meeting", "Onboarding sync: Cyberdyne Systems",
             "Weekly onboarding sync. SSO still not working: Okta SAML assertion is rejected "
             "(audience mismatch?). Raj is chasing their IT security team.")
        note(aid, 30, "meeting", "Onboarding sync: Cyberdyne Systems",
             "Still blocked on Okta SSO. Login problems for every pilot user, they can only "
             "use the sandbox with API keys. Escalated to our solutions engineer.")
        note(aid, 10, "email", "Email: Cyberdyne Systems",
             "Raj: 'SSO still failing after the cert rotation, our security review is next "
             "week'. Training is on hold until people can log in.")
        ticket(aid, 35, "high", "open", "SSO login failing with Okta",
               "SAML assertion rejected with 'invalid audience' when users sign in through Okta. "
               "Nobody in the pilot group can log in.")
        ticket(aid, 12, "high", "open", "Okta SSO still failing after cert rotation",
               "We rotated the signing cert as advised, login still fails for all users.")
    elif name == "Wayne Media":
        note(aid, 50, "call", "Call notes: Wayne Media",
             "Jordan Blake told me she's leaving Wayne Media at the end of the month, she was "
             "the one pushing the call summarisation rollout. Need a new sponsor.")
        note(aid, 20, "email", "Email: Wayne Media",
             "No reply from the new platform lead after two emails. Usage of call "
             "summarisation is dropping week over week.")
        nps(aid, 90, 8, "Call summaries are good, integration took a while.")
        ticket(aid, 100, "normal", "closed", "SDK question", "How do we set timeouts in the Python SDK?")
    elif name == "Umbrella Corp":
        note(aid, 9, "email", "Email: Umbrella Corp",
             "Their ML team reran the claims fine-tune with a 10x higher learning rate and no "
             "warmup to finish faster. The job failed overnight.")
        ticket(aid, 8, "high", "open", "Fine-tune job failed with NaN loss",
               "Job ft-umb-2 loss went down for a while then exploded to NaN. Same data as the "
               "last successful run, only changed learning rate to 2e-4 and warmup to 0.")
        note(aid, 38, "meeting", "Meeting notes: Umbrella Corp",
             "Fine-tune v1 on claims notes scored 0.84 on their eval set. They want a better "
             "score before rolling out to all adjusters.")
        nps(aid, 60, 8, "Powerful fine-tuning, docs on hyperparameters are thin.")
    elif name == "Hooli":
        note(aid, 14, "meeting", "Meeting notes: Hooli",
             "Gavin's team wants to roll the support copilot out to the support org (another "
             "150 people). They are at 98% of seats. Asked for enterprise tier pricing.")
        note(aid, 60, "call", "Call notes: Hooli", "Seat requests keep coming in from new teams; "
             "they asked how to add seats mid-term.")
        nps(aid, 30, 9, "Everyone wants access, we need more seats!")
        nps(aid, 110, 9, "Great product and great support.")


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
