"""Names, places and words the demo portfolio is made of, and the text generator for notes and tickets."""

from collections.abc import Sequence

import numpy as np

DAYS = 180


ARC_NAMES = [
    "Acme Corp", "Globex", "Initech", "Cyberdyne Systems", "Wayne Media", "Umbrella Corp",
    "Hooli", "Vandelay Imports", "Vandelay Industries",
]


CSM_NAMES = [
    ("Dana Reyes", "America/New_York"), ("Marcus Chen", "America/New_York"),
    ("Priya Patel", "America/Chicago"), ("Sam Okafor", "Europe/London"),
    ("Lena Fischer", "Europe/Berlin"), ("Diego Alvarez", "America/Los_Angeles"),
]


MANAGER_NAMES = [("Olivia Grant", "America/New_York"), ("Noah Kim", "Europe/London")]


FIRST = ["Alex", "Jamie", "Taylor", "Morgan", "Casey", "Riley", "Jordan", "Avery", "Quinn",
          "Harper", "Rowan", "Sasha", "Nikhil", "Mei", "Tomás", "Ines", "Kofi", "Yuki", "Omar",
          "Elena", "Raj", "Chloe", "Lukas", "Amara", "Ben", "Sofia", "Hiro", "Fatima", "Liam"]


LAST = ["Nguyen", "Smith", "Garcia", "Müller", "Johnson", "Kowalski", "Brown", "Singh", "Rossi",
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


INDUSTRY = {"Health": "Healthcare", "Clinics": "Healthcare", "Pharma": "Life sciences",
             "Biotech": "Life sciences", "Financial": "Financial services", "Bank": "Financial services",
             "Capital": "Financial services", "Insurance": "Insurance", "Legal": "Legal",
             "Retail": "Retail", "Outfitters": "Retail", "Markets": "Retail", "Foods": "Consumer goods",
             "Logistics": "Logistics", "Freight": "Logistics", "Airlines": "Travel", "Travel": "Travel",
             "Media": "Media", "Studios": "Media", "Games": "Media", "Telecom": "Telecom",
             "Energy": "Energy", "Learning": "Education", "Realty": "Real estate",
             "Motors": "Manufacturing", "Robotics": "Manufacturing", "Devices": "Manufacturing"}


MODELS = [("nimbus-large", "v3.1"), ("nimbus-small", "v2.4"), ("nimbus-large", "v3.0"),
           ("cirrus-code", "v1.8")]


PLANS = {"enterprise": "Enterprise", "mid-market": "Growth", "SMB": "Starter"}


MILESTONES = ["Kickoff call", "SSO / SCIM setup", "API keys and sandbox", "First production use case",
              "Team training", "30-day success review"]


class TextGen:
    """Notes, tickets and comments written the way people write them."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def pick(self, options: Sequence[str]) -> str:
        """One of the options, at random."""
        return options[int(self.rng.integers(len(options)))]

    def note(self, tone: float, contact: str, acct: str, use_case: str) -> tuple[str, str, str]:
        """A meeting note (kind, subject, body) whose tone follows the account's health."""
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
        """A support ticket (subject, body), more severe on unhealthy accounts."""
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
        """An NPS comment in keeping with the score."""
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


def account_names(n: int, rng: np.random.Generator) -> list[str]:
    """`n` distinct company names, the story-arc names first."""
    taken = {w.split()[0] for w in ARC_NAMES}
    combos = [f"{w} {s}" for w in _WORDS if w not in taken for s in _SUFFIXES]
    order = rng.permutation(len(combos))
    names = [combos[i] for i in order[: max(0, n)]]
    i = 2
    while len(names) < n:  # very large portfolios: numbered sister companies
        names.extend(f"{combos[j]} {i}" for j in order[: n - len(names)])
        i += 1
    return names


def email(name: str, domain: str = "retain.example") -> str:
    """first.last@domain for a person's name."""
    return name.lower().replace(" ", ".").replace("ü", "u").replace("á", "a") + "@" + domain
