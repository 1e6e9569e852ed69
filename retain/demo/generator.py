"""The demo portfolio generator: accounts, CSMs, contacts and contracts, then every signal."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from retain.demo.model import Portfolio, next_anniversary, sigmoid, years_after, years_before
from retain.demo.names import (
    ARC_NAMES,
    CSM_NAMES,
    FIRST,
    INDUSTRY,
    LAST,
    MANAGER_NAMES,
    PLANS,
    TextGen,
    account_names,
    email,
)
from retain.demo.signals import fine_tunes, renewal_history, telemetry
from retain.demo.story import onboarding_plans, tickets_nps_notes

USE_CASES = ["support copilot", "contract review", "claims triage", "code assistant",
             "search over docs", "sales email drafting", "call summarisation", "KYC checks"]


@dataclass
class _Accounts:
    """The accounts' draws: names, latent health, seats, onboarding, contract start and renewal, ARR."""

    names: list[str]
    h: np.ndarray  # latent health per account (drives every signal)
    segment: np.ndarray
    arr: np.ndarray
    seats: np.ndarray
    onboarding: np.ndarray
    owner: np.ndarray
    start: np.ndarray
    renewal: list[date]

    @property
    def n(self) -> int:
        """How many accounts."""
        return len(self.names)


def generate(
    n_accounts: int = 150, seed: int = 7, anchor: date | None = None, n_csms: int = 6,
    progress: Callable[[str, float], None] | None = None,
) -> Portfolio:
    """Generate the portfolio as rows; nothing is written.

    People, then the accounts' draws, their rows (account, contract, contacts), then every signal;
    the order of the random draws is the portfolio's identity for a seed, so it never changes.
    """
    anchor = anchor or date.today()
    rng = np.random.default_rng(seed)
    txt = TextGen(rng)
    pf = Portfolio(anchor=anchor)
    tick = progress or (lambda _stage, _frac: None)
    csm_ids = _people(pf, n_csms)
    tick("people", 0.05)
    ac = _draw_accounts(pf, rng, n_accounts, csm_ids, anchor)
    champions, account_use = _account_rows(pf, rng, txt, ac, anchor)
    tick("accounts", 0.15)

    names, h, n = ac.names, ac.h, ac.n
    telemetry(pf, rng, h, ac.seats, names, anchor)
    tick("telemetry", 0.55)
    tickets_nps_notes(pf, rng, txt, h, names, anchor, champions, account_use, ac.renewal)
    tick("notes", 0.75)
    onboarding_plans(pf, rng, h, names, ac.onboarding, ac.start, anchor)
    fine_tunes(pf, rng, h, names, anchor)
    renewal_history(pf, rng, h, names, ac.start, ac.arr, anchor, n, csm_ids)
    tick("history", 0.9)
    return pf


def _people(pf: Portfolio, n_csms: int) -> list[int]:
    """Managers (one per team), the admin and the CSMs; the CSMs' ids."""
    n_csms = max(2, n_csms)
    n_teams = max(2, n_csms // 5) if n_csms > 6 else 2
    team_names = ["East", "West"] + [f"Team {i + 3}" for i in range(n_teams - 2)]
    csm_cols = ["id", "name", "email", "slack_user_id", "role", "manager_id", "team", "timezone"]
    managers: list[int] = []
    for t in range(n_teams):
        name, tz = MANAGER_NAMES[t] if t < len(MANAGER_NAMES) else (f"Manager {t + 1}", "UTC")
        mid = t + 1
        managers.append(mid)
        pf.add("csms", csm_cols, (mid, name, email(name), f"UMGR{mid:05d}", "manager", None,
                                  team_names[t], tz))
    admin_id = n_teams + 1
    pf.add("csms", csm_cols, (admin_id, "Avery Stone", "avery.stone@retain.example", "UADMIN0001",
                              "admin", None, None, "UTC"))
    csm_ids: list[int] = []
    for c in range(n_csms):
        name, tz = CSM_NAMES[c] if c < len(CSM_NAMES) else (
            f"{FIRST[c % len(FIRST)]} {LAST[(c * 7) % len(LAST)]} {c}", "UTC")
        cid = admin_id + 1 + c
        team = c * n_teams // n_csms
        csm_ids.append(cid)
        pf.add("csms", csm_cols, (cid, name, email(name), f"UCSM{cid:05d}", "csm",
                                  managers[team], team_names[team], tz))
    return csm_ids


def _draw_accounts(pf: Portfolio, rng: np.random.Generator, n_accounts: int, csm_ids: list[int],
                   anchor: date) -> _Accounts:
    """The accounts' draws (the story's accounts, `ARC_NAMES`, get their fixed values)."""
    n = max(n_accounts, len(ARC_NAMES))
    names = ARC_NAMES + account_names(n - len(ARC_NAMES), rng)
    h = rng.normal(0.0, 1.0, n)
    arc_h = {"Acme Corp": 1.6, "Globex": 0.2, "Initech": -1.1, "Cyberdyne Systems": -0.4,
             "Wayne Media": -0.6, "Umbrella Corp": 0.1, "Hooli": 1.3, "Vandelay Imports": 0.3,
             "Vandelay Industries": -0.2}
    for i, name in enumerate(ARC_NAMES):
        h[i] = arc_h[name]
    pf.latent = {name: float(v) for name, v in zip(names, h, strict=True)}
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
    renewal = [next_anniversary(s, anchor) for s in start]
    for i, name in enumerate(ARC_NAMES):
        if name == "Cyberdyne Systems":
            start[i] = anchor - timedelta(days=70)
            renewal[i] = years_after(start[i], 1)
    arc_renewal = {"Initech": 21, "Wayne Media": 75, "Acme Corp": 200, "Globex": 130,
                   "Hooli": 55, "Umbrella Corp": 160}
    for i, name in enumerate(ARC_NAMES):
        if name in arc_renewal:
            renewal[i] = anchor + timedelta(days=arc_renewal[name])
            start[i] = years_before(renewal[i], 1 + i % 3)
    return _Accounts(names, h, segment, arr, seats, onboarding, owner, start, renewal)


def _account_rows(pf: Portfolio, rng: np.random.Generator, txt: TextGen, ac: _Accounts,
                  anchor: date) -> tuple[dict[int, tuple[str, date | None]], dict[int, str]]:
    """Each account's row, contract and contacts; (champion and when they left, use case) per account."""
    names, h, n = ac.names, ac.h, ac.n
    segment, arr, seats, onboarding, owner, start, renewal = (ac.segment, ac.arr, ac.seats, ac.onboarding,
                                                               ac.owner, ac.start, ac.renewal)
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
        industry = INDUSTRY.get(suffix, txt.pick(["Technology", "Professional services", "Retail"]))
        stage = "onboarding" if onboarding[i] else "adopted"
        pf.add("accounts", acc_cols, (aid, f"DEMO-A{aid:06d}", name, domain, str(segment[i]),
                                      industry, float(arr[i]), int(owner[i]), stage,
                                      start[i].isoformat()))
        pf.add("contracts", ctr_cols, (aid, f"DEMO-C{aid:06d}", aid, PLANS[str(segment[i])],
                                       start[i].isoformat(), renewal[i].isoformat(),
                                       float(arr[i]), int(seats[i]), "active"))
        account_use[aid] = USE_CASES[int(rng.integers(len(USE_CASES)))]
        champion_present = rng.random() < float(sigmoid(1.4 + 1.3 * h[i]))
        left: date | None = None
        if not champion_present:
            left = anchor - timedelta(days=int(rng.integers(20, 150)))
        if name == "Wayne Media":
            left = anchor - timedelta(days=45)
        if name in ("Acme Corp", "Hooli", "Globex", "Cyberdyne Systems", "Initech", "Umbrella Corp"):
            left = None
        for k in range(int(rng.integers(3, 6))):
            contact_id += 1
            first = FIRST[int(rng.integers(len(FIRST)))]
            last = LAST[int(rng.integers(len(LAST)))]
            cname = f"{first} {last}"
            if name == "Wayne Media" and k == 0:
                cname = "Jordan Blake"
            role = ["VP Engineering", "Head of AI Platform", "ML Engineer", "IT Admin",
                    "Director of Operations", "Procurement"][k % 6]
            is_champ = k == 0
            engaged = anchor - timedelta(days=int(rng.integers(1, 40)))
            pf.add("contacts", con_cols, (contact_id, f"DEMO-P{contact_id:07d}", aid, cname,
                                          email(cname, domain), role, is_champ,
                                          engaged.isoformat(), left.isoformat() if is_champ and left else None))
            if is_champ:
                champions[aid] = (cname, left)
    return champions, account_use
