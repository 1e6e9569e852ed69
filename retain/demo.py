"""A deterministic, realistic demo portfolio for an AI/LLM vendor's customer-success team.

Every account has a latent health `h`; usage trend, seat use, latency, errors, tickets, NPS, note
tone, champion presence and renewal outcomes are all drawn from it (plus noise), so scores and
models have real signal. Past renewals are drawn from a known logistic model of the features
90 days before each renewal, which `retain model fit` should recover.

Story arcs, each on a named account (see README): a champion left and usage fell (Wayne Media);
onboarding stuck on SSO (Cyberdyne Systems); p95 latency doubled after a model switch (Globex);
a fine-tune diverged after a learning-rate change (Umbrella Corp); seat growth signalling
expansion (Hooli); renewal in under 30 days with a detractor NPS (Initech); a healthy reference
(Acme Corp); and two accounts with nearly the same name (Vandelay Imports, Vandelay Industries).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import text

from integrations.crm.store import CRMStore

DAYS = 180
ARC_NAMES = [
    "Acme Corp", "Globex", "Initech", "Cyberdyne Systems", "Wayne Media", "Umbrella Corp",
    "Hooli", "Vandelay Imports", "Vandelay Industries",
]

_CSM_NAMES = [
    ("Dana Reyes", "America/New_York"), ("Marcus Chen", "America/New_York"),
    ("Priya Patel", "America/Chicago"), ("Sam Okafor", "Europe/London"),
    ("Lena Fischer", "Europe/Berlin"), ("Diego Alvarez", "America/Los_Angeles"),
]
_MANAGER_NAMES = [("Olivia Grant", "America/New_York"), ("Noah Kim", "Europe/London")]
_FIRST = ["Alex", "Jamie", "Taylor", "Morgan", "Casey", "Riley", "Jordan", "Avery", "Quinn",
          "Harper", "Rowan", "Sasha", "Nikhil", "Mei", "Tomás", "Ines", "Kofi", "Yuki", "Omar",
          "Elena", "Raj", "Chloe", "Lukas", "Amara", "Ben", "Sofia", "Hiro", "Fatima", "Liam"]
_LAST = ["Nguyen", "Smith", "Garcia", "Müller", "Johnson", "Kowalski", "Brown", "Singh", "Rossi",
         "Dubois", "Larsen", "Silva", "Cohen", "Ito", "Adeyemi", "Murphy", "Novak", "Haddad"]
_WORDS = ["Blue", "Summit", "Harbor", "Northstar", "Redwood", "Granite", "Lumen", "Cobalt",
          "Evergreen", "Beacon", "Atlas", "Pioneer", "Crescent", "Falcon", "Meridian", "Orchid",
          "Quantum", "Silverline", "Trident", "Vertex", "Willow", "Zenith", "Aurora", "Bluebird",
          "Cascade", "Driftwood", "Ember", "Fjord", "Glacier", "Horizon", "Ironclad", "Juniper",
          "Keystone", "Lighthouse", "Maple", "Nimbus", "Oakridge", "Pinnacle", "Quarry", "Riverbend",
          "Sequoia", "Tidewater", "Upland", "Valor", "Westbrook", "Yellowtail", "Alder", "Brightwater",
          "Cedar", "Dunmore", "Eastgate", "Foxglove", "Goldcrest", "Highland", "Inlet", "Jetstream",
          "Kestrel", "Larkspur", "Moonstone", "Northgate"]
_SUFFIXES = ["Labs", "Analytics", "Health", "Logistics", "Financial", "Insurance", "Retail",
             "Energy", "Software", "Media", "Legal", "Robotics", "Bank", "Biotech", "Foods",
             "Telecom", "Travel", "Learning", "Security", "Capital", "Motors", "Games", "Realty",
             "Pharma", "Systems", "Networks", "Partners", "Group", "Mobility", "Studios",
             "Outfitters", "Clinics", "Airlines", "Freight", "Data", "Cloud", "AI", "Devices",
             "Markets", "Works"]
_INDUSTRY = {"Health": "Healthcare", "Clinics": "Healthcare", "Pharma": "Life sciences",
             "Biotech": "Life sciences", "Financial": "Financial services", "Bank": "Financial services",
             "Capital": "Financial services", "Insurance": "Insurance", "Legal": "Legal",
             "Retail": "Retail", "Outfitters": "Retail", "Markets": "Retail", "Foods": "Consumer goods",
             "Logistics": "Logistics", "Freight": "Logistics", "Airlines": "Travel", "Travel": "Travel",
             "Media": "Media", "Studios": "Media", "Games": "Media", "Telecom": "Telecom",
             "Energy": "Energy", "Learning": "Education", "Realty": "Real estate",
             "Motors": "Manufacturing", "Robotics": "Manufacturing", "Devices": "Manufacturing"}
_MODELS = [("nimbus-large", "v3.1"), ("nimbus-small", "v2.4"), ("nimbus-large", "v3.0"),
           ("cirrus-code", "v1.8")]
_PLANS = {"enterprise": "Enterprise", "mid-market": "Growth", "SMB": "Starter"}
MILESTONES = ["Kickoff call", "SSO / SCIM setup", "API keys and sandbox", "First production use case",
              "Team training", "30-day success review"]


def _sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Portfolio:
    """The rows of a generated portfolio, table by table, ready for bulk insert."""

    anchor: date
    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)

    def add(self, table: str, columns: Sequence[str], row: tuple[Any, ...]) -> None:
        """Append one row to a table."""
        self.columns.setdefault(table, list(columns))
        self.tables.setdefault(table, []).append(row)


# Features of an account, drawn from latent health. The same mapping feeds the renewal history,
# so the fitted model describes the live portfolio too.
def features_from_health(h: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw scorecard metrics for accounts of latent health `h`."""
    n = len(h)
    return {
        "usage_change_30d": np.clip(0.12 * h + rng.normal(0, 0.08, n), -0.8, 1.5),
        "seat_utilization": np.clip(_sigmoid(0.7 + 0.8 * h + rng.normal(0, 0.5, n)), 0.05, 1.0),
        "p95_ratio": np.clip(np.exp(-0.12 * h + rng.normal(0, 0.12, n)), 0.5, 3.0),
        "error_rate": np.clip(0.008 * np.exp(-0.45 * h + rng.normal(0, 0.3, n)), 0.0005, 0.2),
        "eval_score": np.full(n, np.nan),
        "open_high_tickets": rng.poisson(np.exp(-0.6 - 0.6 * h)).astype(float),
        "tickets_30d": rng.poisson(np.exp(0.3 - 0.45 * h)).astype(float),
        "nps": np.clip(np.round(7.4 + 1.5 * h + rng.normal(0, 1.2, n)), 0, 10),
        "note_tone": np.clip(np.tanh(0.6 * h + rng.normal(0, 0.4, n)), -1, 1),
        "onboarding_progress": np.ones(n),
        "onboarding_overdue": np.zeros(n),
        "champion_present": (rng.random(n) < _sigmoid(1.4 + 1.3 * h)).astype(float),
        "days_since_touch": np.clip(np.round(np.exp(2.6 - 0.35 * h + rng.normal(0, 0.5, n))), 1, 120),
        "days_to_renewal": np.full(n, 90.0),
    }


def true_renewal_logit(f: dict[str, np.ndarray]) -> np.ndarray:
    """The generator's ground truth: log-odds of renewing given the features 90 days before."""
    return (
        2.6
        + 5.0 * f["usage_change_30d"]
        + 3.0 * (f["champion_present"] - 0.8)
        + 0.2 * (f["nps"] - 7.0)
        + 2.2 * (f["seat_utilization"] - 0.65)
        - 120.0 * (f["error_rate"] - 0.01)
        - 0.5 * (f["open_high_tickets"] - 0.5)
        - 1.2 * (f["p95_ratio"] - 1.0)
    )


class _Text:
    """Notes, tickets and comments written the way people write them."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def pick(self, options: Sequence[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def note(self, tone: float, contact: str, acct: str, use_case: str) -> tuple[str, str, str]:
        kind = self.pick(["meeting", "email", "call", "note"])
        if tone > 0.3:
            body = self.pick([
                f"Good sync w/ {contact}. {acct} is happy with the {use_case} rollout, want to "
                "add two more teams next quarter. Asked for our batching guide.",
                f"{contact} shared their internal dashboard - {use_case} deflects a lot of manual "
                "work now. Exec sponsor mentioned us in their all-hands. Great momentum.",
                f"Quick call with {contact}: no issues, latency fine, they're exploring a second "
                f"use case beyond {use_case}. Sending the fine-tuning playbook.",
            ])
        elif tone > -0.3:
            body = self.pick([
                f"Monthly check-in with {contact}. {use_case} is live but adoption is uneven "
                "across teams. Agreed to run a training session. Nothing urgent.",
                f"{contact} asked about pricing for higher rate limits. Usage steady. Need to "
                f"follow up on the {use_case} success metrics they promised to share.",
                f"Spoke to {contact} re: {use_case}. Some questions about token costs, sent the "
                "cost-optimisation doc. Will check back in 2 wks.",
            ])
        else:
            body = self.pick([
                f"Tough call. {contact} frustrated - {use_case} answers are slow and they've had "
                "errors in prod. Said leadership is questioning the spend. Need exec alignment asap.",
                f"{contact} didn't show to the QBR prep, 2nd time. Usage dropping. Heard they're "
                "piloting another vendor for " + use_case + ". Escalating internally.",
                f"Email from {contact}: unhappy with support response times on the outage ticket. "
                f"{use_case} project is 'on hold' until they see improvement.",
            ])
        subject = {"meeting": "Meeting notes", "email": "Email", "call": "Call notes",
                   "note": "CSM note"}[kind] + f": {acct}"
        return kind, subject, body

    def ticket(self, h: float) -> tuple[str, str]:
        options = [
            ("Intermittent 5xx errors on /v1/chat", "We're seeing 502/503 on about 2% of calls "
             "since this morning, mostly long prompts. Retries help. Can you check?"),
            ("Rate limit hit during batch job", "Our nightly batch gets 429s after ~10 min. "
             "Can we raise our tokens-per-minute limit or should we change how we batch?"),
            ("Invoice question: token overage", "The last invoice shows an overage we don't "
             "understand. Which workspace used the extra output tokens?"),
            ("How to reduce cost per request?", "Our average prompt is getting long. Any "
             "guidance on context trimming or prompt caching?"),
            ("Feature request: streaming in the SDK", "Would love streaming support for the "
             "Java SDK so our UI feels faster."),
            ("Latency higher than expected", "p95 is around 2s for short prompts, is that "
             "normal for our plan? Users notice it."),
            ("Embedding endpoint timeout", "Some embedding calls time out after 30s when we "
             "send 200 docs at once."),
        ]
        return options[int(self.rng.integers(len(options)))]

    def nps_comment(self, score: int, use_case: str) -> str:
        if score >= 9:
            return self.pick([f"Great product, {use_case} saved our team hours every week.",
                              "Support is responsive and the models keep getting better.",
                              "Reliable, fast, and the CSM actually understands our business."])
        if score >= 7:
            return self.pick(["Good overall but pricing is hard to predict.",
                              "Solid models, docs could be clearer on fine-tuning.",
                              f"Works well for {use_case}, latency sometimes spikes."])
        return self.pick(["Too many errors in production lately.",
                          "Slow answers and support takes days to respond.",
                          "Costs keep going up and we don't see the value yet."])


def _account_names(n: int, rng: np.random.Generator) -> list[str]:
    taken = {w.split()[0] for w in ARC_NAMES}
    combos = [f"{w} {s}" for w in _WORDS if w not in taken for s in _SUFFIXES]
    order = rng.permutation(len(combos))
    names = [combos[i] for i in order[: max(0, n)]]
    i = 2
    while len(names) < n:  # very large portfolios: numbered sister companies
        names.extend(f"{combos[j]} {i}" for j in order[: n - len(names)])
        i += 1
    return names


def generate(
    n_accounts: int = 150, seed: int = 7, anchor: date | None = None, n_csms: int = 6,
    progress: Callable[[str, float], None] | None = None,
) -> Portfolio:
    """Generate the portfolio as rows; nothing is written."""
    anchor = anchor or date.today()
    rng = np.random.default_rng(seed)
    txt = _Text(rng)
    pf = Portfolio(anchor=anchor)
    tick = progress or (lambda _stage, _frac: None)

    # --- people
    n_csms = max(2, n_csms)
    n_teams = max(2, n_csms // 5) if n_csms > 6 else 2
    team_names = ["East", "West"] + [f"Team {i + 3}" for i in range(n_teams - 2)]
    csm_cols = ["id", "name", "email", "slack_user_id", "role", "manager_id", "team", "timezone"]
    managers: list[int] = []
    for t in range(n_teams):
        name, tz = _MANAGER_NAMES[t] if t < len(_MANAGER_NAMES) else (f"Manager {t + 1}", "UTC")
        mid = t + 1
        managers.append(mid)
        pf.add("csms", csm_cols, (mid, name, _email(name), f"UMGR{mid:05d}", "manager", None,
                                  team_names[t], tz))
    admin_id = n_teams + 1
    pf.add("csms", csm_cols, (admin_id, "Avery Stone", "avery.stone@retain.example", "UADMIN0001",
                              "admin", None, None, "UTC"))
    csm_ids: list[int] = []
    for c in range(n_csms):
        name, tz = _CSM_NAMES[c] if c < len(_CSM_NAMES) else (
            f"{_FIRST[c % len(_FIRST)]} {_LAST[(c * 7) % len(_LAST)]} {c}", "UTC")
        cid = admin_id + 1 + c
        team = c * n_teams // n_csms
        csm_ids.append(cid)
        pf.add("csms", csm_cols, (cid, name, _email(name), f"UCSM{cid:05d}", "csm",
                                  managers[team], team_names[team], tz))
    tick("people", 0.05)

    # --- accounts
    n = max(n_accounts, len(ARC_NAMES))
    names = ARC_NAMES + _account_names(n - len(ARC_NAMES), rng)
    h = rng.normal(0.0, 1.0, n)
    arc_h = {"Acme Corp": 1.6, "Globex": 0.2, "Initech": -1.1, "Cyberdyne Systems": -0.4,
             "Wayne Media": -0.6, "Umbrella Corp": 0.1, "Hooli": 1.3, "Vandelay Imports": 0.3,
             "Vandelay Industries": -0.2}
    for i, name in enumerate(ARC_NAMES):
        h[i] = arc_h[name]
    seg_draw = rng.random(n)
    segment = np.where(seg_draw < 0.2, "enterprise", np.where(seg_draw < 0.6, "mid-market", "SMB"))
    segment[: len(ARC_NAMES)] = ["enterprise", "enterprise", "mid-market", "mid-market",
                                 "mid-market", "enterprise", "enterprise", "SMB", "SMB"]
    arr_lo = np.select([segment == "enterprise", segment == "mid-market"], [150_000, 40_000], 8_000)
    arr = np.round(arr_lo * np.exp(rng.uniform(0, 1.9, n)) / 100) * 100
    seats = np.maximum(5, np.round(arr / np.select(
        [segment == "enterprise", segment == "mid-market"], [900, 700], 500))).astype(int)
    onboarding = rng.random(n) < 0.12
    onboarding[: len(ARC_NAMES)] = [n_ == "Cyberdyne Systems" for n_ in ARC_NAMES]
    tenure = np.where(onboarding, rng.integers(20, 110, n), rng.integers(200, 1500, n))
    owner = np.array([csm_ids[i % len(csm_ids)] for i in rng.permutation(n)])
    arc_owner = {"Acme Corp": 0, "Globex": 0, "Initech": 0, "Cyberdyne Systems": 1,
                 "Wayne Media": 1, "Umbrella Corp": 3, "Hooli": 3, "Vandelay Imports": 2,
                 "Vandelay Industries": 4}
    for i, name in enumerate(ARC_NAMES):
        owner[i] = csm_ids[arc_owner[name] % len(csm_ids)]
    # Renewal date: the next anniversary of the contract start.
    start = np.array([anchor - timedelta(days=int(t)) for t in tenure])
    renewal = [_next_anniversary(s, anchor) for s in start]
    for i, name in enumerate(ARC_NAMES):
        if name == "Cyberdyne Systems":
            start[i] = anchor - timedelta(days=70)
            renewal[i] = _years_after(start[i], 1)
    arc_renewal = {"Initech": 21, "Wayne Media": 75, "Acme Corp": 200, "Globex": 130,
                   "Hooli": 55, "Umbrella Corp": 160}
    for i, name in enumerate(ARC_NAMES):
        if name in arc_renewal:
            renewal[i] = anchor + timedelta(days=arc_renewal[name])
            start[i] = _years_before(renewal[i], 1 + i % 3)
    use_cases = ["support copilot", "contract review", "claims triage", "code assistant",
                 "search over docs", "sales email drafting", "call summarisation", "KYC checks"]

    acc_cols = ["id", "external_id", "name", "domain", "segment", "industry", "arr", "owner_id",
                "lifecycle_stage", "created_on"]
    con_cols = ["id", "external_id", "account_id", "name", "email", "role", "is_champion",
                "last_engaged", "left_on"]
    ctr_cols = ["id", "external_id", "account_id", "plan", "start_date", "renewal_date", "arr",
                "seats", "status"]
    contact_id = 0
    champions: dict[int, tuple[str, date | None]] = {}
    account_use: dict[int, str] = {}
    for i in range(n):
        aid = i + 1
        name = names[i]
        domain = name.lower().replace(" ", "") .replace("ü", "u") + ".example"
        suffix = name.split()[-1]
        industry = _INDUSTRY.get(suffix, txt.pick(["Technology", "Professional services", "Retail"]))
        stage = "onboarding" if onboarding[i] else "adopted"
        pf.add("accounts", acc_cols, (aid, f"DEMO-A{aid:06d}", name, domain, str(segment[i]),
                                      industry, float(arr[i]), int(owner[i]), stage,
                                      start[i].isoformat()))
        pf.add("contracts", ctr_cols, (aid, f"DEMO-C{aid:06d}", aid, _PLANS[str(segment[i])],
                                       start[i].isoformat(), renewal[i].isoformat(),
                                       float(arr[i]), int(seats[i]), "active"))
        account_use[aid] = use_cases[int(rng.integers(len(use_cases)))]
        champion_present = rng.random() < float(_sigmoid(1.4 + 1.3 * h[i]))
        left: date | None = None
        if not champion_present:
            left = anchor - timedelta(days=int(rng.integers(20, 150)))
        if name == "Wayne Media":
            left = anchor - timedelta(days=45)
        if name in ("Acme Corp", "Hooli", "Globex", "Cyberdyne Systems", "Initech", "Umbrella Corp"):
            left = None
        for k in range(int(rng.integers(3, 6))):
            contact_id += 1
            first = _FIRST[int(rng.integers(len(_FIRST)))]
            last = _LAST[int(rng.integers(len(_LAST)))]
            cname = f"{first} {last}"
            if name == "Wayne Media" and k == 0:
                cname = "Jordan Blake"
            role = ["VP Engineering", "Head of AI Platform", "ML Engineer", "IT Admin",
                    "Director of Operations", "Procurement"][k % 6]
            is_champ = k == 0
            engaged = anchor - timedelta(days=int(rng.integers(1, 40)))
            pf.add("contacts", con_cols, (contact_id, f"DEMO-P{contact_id:07d}", aid, cname,
                                          _email(cname, domain), role, is_champ,
                                          engaged.isoformat(), left.isoformat() if is_champ and left else None))
            if is_champ:
                champions[aid] = (cname, left)
    tick("accounts", 0.15)

    _telemetry(pf, rng, h, seats, names, anchor)
    tick("telemetry", 0.55)
    _tickets_nps_notes(pf, rng, txt, h, names, anchor, champions, account_use, renewal)
    tick("notes", 0.75)
    _onboarding(pf, rng, h, names, onboarding, start, anchor)
    _fine_tunes(pf, rng, h, names, anchor)
    _renewal_history(pf, rng, h, names, start, arr, anchor, n, csm_ids)
    tick("history", 0.9)
    return pf


def _email(name: str, domain: str = "retain.example") -> str:
    return name.lower().replace(" ", ".").replace("ü", "u").replace("á", "a") + "@" + domain


def _next_anniversary(start: date, anchor: date) -> date:
    years = max(1, anchor.year - start.year)
    while True:
        d = _years_after(start, years)
        if d > anchor:
            return d
        years += 1


def _years_after(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def _years_before(d: date, years: int) -> date:
    return _years_after(d, -years)


def _telemetry(pf: Portfolio, rng: np.random.Generator, h: np.ndarray, seats: np.ndarray,
               names: list[str], anchor: date) -> None:
    n = len(h)
    t = np.arange(DAYS)  # day index; DAYS-1 is the anchor's eve
    days = [(anchor - timedelta(days=DAYS - k)).isoformat() for k in range(DAYS)]
    weekday = np.array([(anchor - timedelta(days=DAYS - k)).weekday() < 5 for k in range(DAYS)])
    growth = 0.55 * h + rng.normal(0, 0.25, n)  # log-growth over the window
    base = seats * np.exp(rng.normal(3.0, 0.4, n))
    req = base[:, None] * np.exp(growth[:, None] * t[None, :] / DAYS)
    req *= np.where(weekday, 1.0, 0.35)[None, :] * np.exp(rng.normal(0, 0.08, (n, DAYS)))
    util0 = np.clip(_sigmoid(0.7 + 0.8 * h + rng.normal(0, 0.4, n)), 0.05, 0.97)
    util = np.clip(util0[:, None] * np.exp(0.15 * growth[:, None] * t[None, :] / DAYS), 0.03, 1.0)
    ctx = np.exp(rng.normal(7.0, 0.4, n))  # mean input tokens per request
    ctx_t = np.repeat(ctx[:, None], DAYS, axis=1)
    p50 = np.exp(rng.normal(6.0, 0.25, n))[:, None] * np.exp(rng.normal(0, 0.06, (n, DAYS)))
    p95_mult = np.full((n, DAYS), 2.2) * np.exp(-0.06 * h[:, None] + rng.normal(0, 0.05, (n, DAYS)))
    err = (0.008 * np.exp(-0.45 * h + rng.normal(0, 0.3, n)))[:, None] * np.exp(
        rng.normal(0, 0.25, (n, DAYS)))
    model_idx = rng.integers(0, len(_MODELS), n)
    switch_day = np.full(n, DAYS + 1)

    idx = {name: i for i, name in enumerate(names[: len(ARC_NAMES)])}
    w = idx["Wayne Media"]  # champion left 45 days ago; usage fades after
    req[w] *= np.where(t < DAYS - 45, 1.0, np.exp(-0.018 * (t - (DAYS - 45))))
    util[w] = np.where(t < DAYS - 45, 0.7, 0.7 * np.exp(-0.012 * (t - (DAYS - 45))))
    g = idx["Globex"]  # model switch 21 days ago doubled p95
    model_idx[g] = 0
    switch_day[g] = DAYS - 21
    p50[g] = np.where(t < DAYS - 21, 520.0, 830.0) * np.exp(rng.normal(0, 0.04, DAYS))
    p95_mult[g] = np.where(t < DAYS - 21, 1.75, 2.3)
    hoo = idx["Hooli"]  # seats fill up
    util[hoo] = np.clip(0.74 + 0.24 * t / DAYS, 0, 0.99)
    req[hoo] = base[hoo] * np.exp(0.45 * t / DAYS) * np.where(weekday, 1.0, 0.35)
    cy = idx["Cyberdyne Systems"]  # sandbox only while SSO is blocked
    req[cy] = np.where(t < DAYS - 70, 0.0, 25.0) * np.where(weekday, 1.0, 0.2)
    util[cy] = np.where(t < DAYS - 70, 0.0, 0.06)
    ac = idx["Acme Corp"]
    err[ac] = 0.003

    requests = np.maximum(0, np.round(req)).astype(np.int64)
    seats_used = np.round(util * seats[:, None]).astype(np.int64)
    active = np.round(seats_used * np.where(weekday, 0.8, 0.25)[None, :]).astype(np.int64)
    in_tok = np.round(requests * ctx_t).astype(np.int64)
    out_tok = np.round(requests * 260).astype(np.int64)
    spend = np.round(in_tok * 2.5e-6 + out_tok * 1.0e-5, 2)
    p95 = p50 * p95_mult
    cols = ["account_id", "day", "api_requests", "input_tokens", "output_tokens", "active_users",
            "seats_used", "p50_latency_ms", "p95_latency_ms", "error_rate", "spend", "model_name",
            "model_version"]
    pf.columns["telemetry_daily"] = cols
    rows = pf.tables.setdefault("telemetry_daily", [])
    p50r = np.round(p50, 1).tolist()
    p95r = np.round(p95, 1).tolist()
    errr = np.round(np.clip(err, 0, 0.5), 5).tolist()
    req_l, in_l, out_l = requests.tolist(), in_tok.tolist(), out_tok.tolist()
    act_l, su_l, sp_l = active.tolist(), seats_used.tolist(), spend.tolist()
    for i in range(n):
        mname, mver = _MODELS[int(model_idx[i])]
        new_ver = "v4.0"
        aid = i + 1
        sd = int(switch_day[i])
        for k in range(DAYS):
            if req_l[i][k] == 0 and i == cy:
                continue
            rows.append((aid, days[k], req_l[i][k], in_l[i][k], out_l[i][k], act_l[i][k],
                         su_l[i][k], p50r[i][k], p95r[i][k], errr[i][k], sp_l[i][k], mname,
                         new_ver if k >= sd else mver))


def _tickets_nps_notes(pf: Portfolio, rng: np.random.Generator, txt: _Text, h: np.ndarray,
                       names: list[str], anchor: date, champions: dict[int, tuple[str, date | None]],
                       account_use: dict[int, str], renewal: list[date]) -> None:
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
                high = rng.random() < float(_sigmoid(-1.0 - 0.9 * h[i]))
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


def _onboarding(pf: Portfolio, rng: np.random.Generator, h: np.ndarray, names: list[str],
                onboarding: np.ndarray, start: np.ndarray, anchor: date) -> None:
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


def _fine_tunes(pf: Portfolio, rng: np.random.Generator, h: np.ndarray, names: list[str],
                anchor: date) -> None:
    cols = ["id", "account_id", "created_on", "status", "base_model", "hyperparameters",
            "loss_start", "loss_min", "loss_final", "loss_summary", "eval_score"]
    fid = 0
    for i in range(len(h)):
        aid = i + 1
        if names[i] == "Umbrella Corp":
            fid += 1
            pf.add("fine_tune_jobs", cols, (fid, aid, (anchor - timedelta(days=40)).isoformat(),
                                            "succeeded", "nimbus-small v2.4", json.dumps(
                {"learning_rate": 2e-5, "warmup_steps": 100, "epochs": 3, "batch_size": 16}),
                1.94, 0.61, 0.62, "loss 1.94 -> 0.61 over 3 epochs, smooth", 0.84))
            fid += 1
            pf.add("fine_tune_jobs", cols, (fid, aid, (anchor - timedelta(days=9)).isoformat(),
                                            "failed", "nimbus-small v2.4", json.dumps(
                {"learning_rate": 2e-4, "warmup_steps": 0, "epochs": 3, "batch_size": 16}),
                1.93, 1.41, float("nan"),
                "loss 1.93 -> 1.41 at step 120, rose to 8.7 by step 290, NaN at step 310", None))
            continue
        if i < len(ARC_NAMES) or rng.random() > 0.2:
            continue
        for _ in range(int(rng.integers(1, 3))):
            fid += 1
            lr = float(rng.choice([1e-5, 2e-5, 5e-5]))
            ev = float(np.clip(0.75 + 0.06 * h[i] + rng.normal(0, 0.04), 0.4, 0.97))
            start_loss = float(np.round(rng.uniform(1.6, 2.4), 2))
            final = float(np.round(start_loss * rng.uniform(0.3, 0.5), 2))
            pf.add("fine_tune_jobs", cols, (
                fid, aid, (anchor - timedelta(days=int(rng.integers(5, DAYS)))).isoformat(),
                "succeeded", "nimbus-small v2.4",
                json.dumps({"learning_rate": lr, "warmup_steps": 100, "epochs": 3, "batch_size": 16}),
                start_loss, final, final, f"loss {start_loss} -> {final}, smooth", round(ev, 3)))


def _renewal_history(pf: Portfolio, rng: np.random.Generator, h: np.ndarray, names: list[str],
                     start: np.ndarray, arr: np.ndarray, anchor: date, n: int,
                     csm_ids: list[int]) -> None:
    """Two years of renewals for live accounts, plus former customers who churned."""
    cols = ["id", "account_id", "renewal_date", "outcome", "arr_before", "arr_after", "features"]
    events: list[tuple[int, date, float, float, bool]] = []  # aid, date, h_then, arr, must_renew
    for i in range(n):
        years = 1
        while True:
            d = _years_after(start[i], years)
            if d > anchor:
                break
            if (anchor - d).days <= 730:
                events.append((i + 1, d, h[i] + rng.normal(0, 0.4), float(arr[i]), True))
            years += 1
    # Former customers: enough of them that about one renewal in six was lost.
    n_former = max(10, int(n * 0.25))
    next_id = n + 1
    acc_cols = pf.columns["accounts"]
    former_names = _account_names(n + n_former, np.random.default_rng(12345))[n:]
    for k in range(n_former):
        aid = next_id + k
        hf = rng.normal(-0.2, 1.0)
        when = anchor - timedelta(days=int(rng.integers(15, 730)))
        a = float(np.round(rng.uniform(10_000, 300_000), -2))
        name = former_names[k] + " (former)"
        pf.add("accounts", acc_cols, (aid, f"DEMO-A{aid:06d}", name, None, "mid-market",
                                      "Technology", 0.0, csm_ids[k % len(csm_ids)], "churned",
                                      (when - timedelta(days=365)).isoformat()))
        events.append((aid, when, hf, a, False))
    hs = np.array([e[2] for e in events])
    feats = features_from_health(hs, rng)
    p = _sigmoid(true_renewal_logit(feats))
    renewed = rng.random(len(events)) < p
    rid = 0
    for j, (aid, when, _h, a, must) in enumerate(events):
        f = {k: (None if np.isnan(v[j]) else float(v[j])) for k, v in feats.items()}
        ok = bool(renewed[j])
        if must and not ok:
            outcome, after = "contracted", round(a * 0.7, -2)  # stayed, but smaller
        elif not ok:
            outcome, after = "churned", 0.0
        elif f["seat_utilization"] and f["seat_utilization"] > 0.85 and rng.random() < 0.6:
            outcome, after = "expanded", round(a * 1.3, -2)
        else:
            outcome, after = "renewed", a
        rid += 1
        pf.add("renewal_events", cols, (rid, aid, when.isoformat(), outcome, a, after,
                                        json.dumps(f)))


_ORDER = ["csms", "accounts", "contacts", "contracts", "telemetry_daily", "fine_tune_jobs",
          "tickets", "survey_responses", "onboarding_plans", "milestones", "activities",
          "renewal_events"]


def write(store: CRMStore, pf: Portfolio, progress: Callable[[str, float], None] | None = None) -> dict[str, int]:
    """Replace the store's contents with the portfolio in one transaction; return row counts."""
    tick = progress or (lambda _stage, _frac: None)
    mark = "?" if store.engine.dialect.paramstyle == "qmark" else "%s"
    counts: dict[str, int] = {}
    with store.engine.begin() as conn:
        for table in reversed(_ORDER + ["health_snapshots", "remembered_facts", "needs_profiles", "action_log",
                                           "followup_state"]):
            conn.execute(text(f"DELETE FROM {table}"))
        for k, table in enumerate(_ORDER):
            rows = pf.tables.get(table, [])
            cols = pf.columns.get(table)
            if not rows or not cols:
                counts[table] = 0
                continue
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
            for chunk in _chunks(rows, 50_000):
                conn.exec_driver_sql(sql, chunk)
            counts[table] = len(rows)
            tick(table, 0.9 + 0.1 * (k + 1) / len(_ORDER))
        conn.execute(text("DELETE FROM retain_meta WHERE key IN ('demo_anchor', 'demo_seed')"))
        conn.execute(text("INSERT INTO retain_meta(key, value) VALUES ('demo_anchor', :a)"),
                     {"a": pf.anchor.isoformat()})
    return counts


def _chunks(rows: list[tuple[Any, ...]], size: int) -> Iterable[list[tuple[Any, ...]]]:
    for k in range(0, len(rows), size):
        yield rows[k : k + size]
