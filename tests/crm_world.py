"""One made-up CRM (companies, contacts, deals, tickets, notes, owners) for the HubSpot and Salesforce mocks.

Deterministic: `world(n)` gives n companies with their records, spread over 60 days of modification
times, and a few records a real CRM has: a company whose owner is not a Retain CSM, a prospect, a
ticket without a subject (rejected), an HTML note body, a contact of no company.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

BASE = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)
CSMS = [("Dana Whitfield", "dana.whitfield@retain.example"), ("Luis Ortega", "luis.ortega@retain.example")]
STRANGER = ("Pat Nobody", "pat.nobody@vendor.example")  # owns accounts in the CRM, not a Retain CSM


@dataclass
class Obj:
    """One CRM record in neutral form: id, kind, modified time, fields, company id."""

    id: str
    kind: str
    modified: datetime
    fields: dict
    company: str | None = None


@dataclass
class World:
    """Everything in the made-up CRM."""

    owners: list[tuple[str, str, str]] = field(default_factory=list)  # (id, name, email)
    objs: dict[str, list[Obj]] = field(default_factory=dict)

    def of(self, kind: str) -> list[Obj]:
        return self.objs.setdefault(kind, [])

    def company(self, name: str) -> Obj:
        return next(c for c in self.of("company") if c.fields["name"] == name)


def world(n: int = 12, seed: int = 3) -> World:
    rnd = random.Random(seed)
    w = World(owners=[(str(100 + i), name, email) for i, (name, email) in enumerate([*CSMS, STRANGER])])
    t = BASE

    def tick() -> datetime:
        nonlocal t
        t += timedelta(minutes=rnd.randint(7, 600))
        return t

    names = ["Acme Robotics", "Globex Analytics", "Initech Labs", "Hooli Cloud", "Umbrella Health", "Stark Freight",
             "Wayne Media", "Vandelay Imports", "Soylent Foods", "Tyrell Systems", "Cyberdyne AI", "Wonka Retail",
             "Oscorp Bio", "Gringotts Pay", "Duff Brewing", "Monarch Travel"]
    for i in range(n):
        cid = str(9000 + i)
        owner = w.owners[2] if i == 1 else w.owners[i % 2]
        w.of("company").append(Obj(cid, "company", tick(), {
            "name": names[i % len(names)] + ("" if i < len(names) else f" {i}"),
            "domain": names[i % len(names)].split()[0].lower() + ".example",
            "industry": rnd.choice(["Software", "Retail", "Health"]),
            "segment": ["enterprise", "mid-market", "SMB"][i % 3], "arr": 20000 + 7500 * i,
            "owner": owner[0], "stage": "customer" if i != n - 1 else "opportunity",
            "created": (BASE - timedelta(days=400 - i)).date().isoformat()}))
    for c in w.of("company"):
        for j in range(3):
            w.of("contact").append(Obj(f"{c.id}{j:02d}", "contact", tick(), {
                "first": ["Maya", "Tom", "Ines"][j], "last": f"Lee{c.id[-2:]}", "email": f"p{j}@{c.fields['domain']}",
                "title": ["VP Engineering", "ML Lead", "Procurement"][j], "champion": j == 0,
                "last_contacted": (BASE + timedelta(days=rnd.randint(0, 50))).date().isoformat()}, c.id))
        start = (BASE - timedelta(days=rnd.randint(100, 300))).date()
        w.of("deal").append(Obj(f"D{c.id}", "deal", tick(), {
            "name": rnd.choice(["Growth", "Scale", "Enterprise"]), "start": start.isoformat(),
            "renewal": (start + timedelta(days=365)).isoformat(), "amount": c.fields["arr"],
            "seats": 25 + int(c.id) % 40,
            "stage": "closedwon"}, c.id))
        for k in range(2):
            opened = BASE + timedelta(days=rnd.randint(0, 55))
            closed = k == 0
            w.of("ticket").append(Obj(f"T{c.id}{k}", "ticket", tick(), {
                "subject": rnd.choice(["Latency spikes on /v1/chat", "Invoice question", "Fine-tune job stuck",
                                       "Outage: 503s for 40 minutes"]),
                "body": "Customer reports the issue in production.", "priority": rnd.choice(["LOW", "MEDIUM", "HIGH"]),
                "open": opened.isoformat(), "closed": (opened + timedelta(days=2)).isoformat() if closed else None,
                "closed_flag": closed}, c.id))
        for k in range(3):
            when = BASE + timedelta(days=rnd.randint(0, 60))
            w.of("note").append(Obj(f"N{c.id}{k}", "note", tick(), {
                "body": rnd.choice(["Great QBR, they plan to expand to two more teams.",
                                    "No reply from the new platform lead for three weeks.",
                                    "Walked through the latency dashboard; they were happy with the fix."]),
                "when": when.isoformat(), "owner": c.fields["owner"], "type": rnd.choice(["Call", "Email", "Task"])},
                c.id))
    # Real-CRM oddities.
    w.of("ticket")[3].fields["subject"] = ""  # rejected: a ticket needs a subject
    w.of("note")[0].fields["body"] = "<p>Kickoff went <b>well</b>.</p><p>Next: SSO &amp; rollout plan.</p>"
    w.of("contact").append(Obj("orphan01", "contact", tick(), {
        "first": "Ada", "last": "Alone", "email": "ada@nowhere.example", "title": "CTO", "champion": False,
        "last_contacted": None}, None))
    return w


def expected(w: World, prospects: bool = True) -> dict[str, int]:
    """How many rows each Retain kind should hold after a full sync of `w`."""
    companies = [c for c in w.of("company") if prospects or c.fields["stage"] == "customer"]
    ids = {c.id for c in companies}
    return {"accounts": len(companies),
            "contacts": sum(1 for o in w.of("contact") if o.company in ids),
            "contracts": sum(1 for o in w.of("deal") if o.company in ids),
            "tickets": sum(1 for o in w.of("ticket") if o.company in ids and o.fields["subject"]),
            "notes": sum(1 for o in w.of("note") if o.company in ids)}
