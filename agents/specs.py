"""The agent catalogue: what every part of Retain must know about an agent, as data, in one place.

The router (its patterns, its reading line, the intents a model may pick, the router prompt's menu),
the composer (headings, order, guidance prompts), Slack (status and plan texts) and the graph
(which agents run once per account) all read `CATALOGUE`; none keeps its own list of intents.
This module imports no agent module: `agents.graph.RUNS` maps each per-account intent to its `run`.

Adding an agent is one `AgentSpec` here, one module with `run(deps, ctx, account) -> Finding`, its
entry in `agents.graph.RUNS`, and its tests (README, Layout: "Adding an agent").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentSpec:
    """One agent (or graph step a route can ask for), described as data."""

    intent: str
    """The route's name for it, and the graph node that runs it."""
    title: str
    """The heading over its findings when an answer holds several."""
    doing: str = ""
    """Slack's status and plan line while it works; `{a}` is an account's name (per-account agents)."""
    reading: str = ""
    """How a route to it reads in the answer's first line; `{a}` is the accounts' names."""
    patterns: str = ""
    """A regular expression over the lower-cased message that routes to it ("" = only by other rules)."""
    menu: str = ""
    """What it covers, for the router prompt's list of intents; "" keeps it off the model's menu."""
    per_account: bool = False
    """Runs once per named account (up to three) with `run(deps, ctx, account)`; else once per message."""
    needs_account: bool = False
    """Without an account (and outside a portfolio question) Retain asks which account is meant."""
    standalone: bool = False
    """Alone in a message, it needs no records read to be understood (help, remember): no query, no model."""
    in_prep: bool = False
    """Part of "prep me for X's QBR"."""
    with_portfolio: bool = False
    """Kept beside a portfolio question ("which of my renewals are at risk, and their onboarding?")."""
    with_lookup: bool = False
    """Kept beside a record lookup in a compound question ("who owns X and what do they need?")."""
    module: str = ""
    """A per-account agent's module under `agents/` whose `run(deps, ctx, account)` the graph calls ("" = the intent's
    own name: `agents/<intent>.py`). The graph imports it by this name: the catalogue itself imports no agent."""
    prompt: str = ""
    """A prompt file (`prompts/<name>.md`) the composer adds as guidance when this agent's findings are in."""
    rank: int = 99
    """Where its findings go in an answer about one account (lower first)."""
    play_rank: int = 9
    """Where its recommendations go in a list of plays, e.g. a QBR deck's next steps (lower first)."""


CATALOGUE: tuple[AgentSpec, ...] = (
    AgentSpec(
        "needs", "Needs", doing="reading {a}'s notes, tickets and surveys",
        reading="{a}'s goals, use cases and pain points",
        patterns=r"care about|\bgoals?\b|pain ?points?|use ?cases?|priorit|what do(es)? \w+ want|"
                 r"\bneeds?\b(?!\s+(my|your|our|a|an|the|to|attention))|"
                 r"success criteria|stakeholders?|objectives?|complain",
        menu="needs (goals, use cases, pain points, what the customer cares about)",
        per_account=True, needs_account=True, in_prep=True, with_lookup=True, rank=60),
    AgentSpec(
        "onboarding", "Onboarding", doing="checking {a}'s onboarding milestones", reading="{a}'s onboarding",
        patterns=r"onboard|milestone|kick-?off|go-?live|\bblocked\b|blockers?|\bstuck\b|\bsso\b|scim|"
                 r"follow[- ]?up|implementation|rollout",
        menu="onboarding (plan, milestones, blockers, follow-ups)",
        per_account=True, needs_account=True, in_prep=True, with_portfolio=True, with_lookup=True,
        prompt="onboarding", rank=40, play_rank=1),
    AgentSpec(
        "tuning", "Model usage", doing="reading {a}'s telemetry and fine-tunes",
        reading="{a}'s model usage (latency, errors, cost, fine-tunes)",
        patterns=r"latenc|\bslow|p95|p50|errors?\b|time ?outs?|cost per|tokens?|fine[- ]?tun|tuning|"
                 r"training (run|job)|model (switch|version|upgrade|change)|throughput|\bspend\b|context length|"
                 r"\bprompts?\b|performance|per request|spending|\bcosts?\b",
        menu="tuning (latency, errors, cost, tokens, model versions, fine-tuning)",
        per_account=True, needs_account=True, in_prep=True, with_portfolio=True, prompt="tuning", rank=50,
        play_rank=2),
    AgentSpec(
        "renewal", "Renewal", doing="checking the renewal model for {a}", reading="{a}'s renewal outlook",
        patterns=r"renew|churn|\brisk|expan|upsell|up-sell|contract|\barr\b|p\(renew\)|\bseats?\b|pric|save play|"
                 r"\bwalk(?:ing)? away\b|\bgo(?:nna|ing to) walk\b|\bworr|\bnervous\b|red flags?|"
                 r"\bplays?\b",
        menu="renewal (renewal date, risk, P(renew), expansion, plays)",
        per_account=True, needs_account=True, in_prep=True, with_portfolio=True, prompt="renewal", rank=30,
        play_rank=0),
    AgentSpec(
        "health", "Health", doing="scoring {a}'s health", reading="how {a} is doing (health, drivers, alerts)",
        patterns=r"how is|how's|how are|doing|health|status|overview|update on|summary|tell me about|"
                 r"going on|what changed",
        menu="health (how an account is doing overall)",
        per_account=True, needs_account=True, in_prep=True, rank=20, play_rank=3),
    AgentSpec(
        "expansion", "Expansion", doing="looking for expansion signals at {a}",
        reading="{a}'s expansion signals (seats, usage growth, new teams)",
        patterns=r"expan|upsell|up-sell|cross-?sell|grow(th)? (potential|opportunit)|more seats|seat cap|"
                 r"room to grow|add(ing)? seats",
        per_account=True, needs_account=True, rank=35),
    AgentSpec(
        "portfolio", "Portfolio", doing="scoring your portfolio",
        menu="portfolio (questions about many accounts: my accounts, at-risk lists, renewals in a period)",
        rank=10),
    AgentSpec(
        "remember", "Remember", doing="saving what you told me",
        patterns=r"^\s*(please\s+)?(remember|note that|keep in mind|fyi\b)",
        menu="remember (the CSM tells a fact to keep)", needs_account=True, standalone=True, rank=70),
    AgentSpec(
        "help", "help", doing="reading the help", patterns=r"^\s*(help\b|\?+\s*$|what can you do|how do i use)",
        menu="help (what Retain can do)", standalone=True),
    AgentSpec("query", "query", doing="querying the CRM", rank=0),
    AgentSpec("draft", "draft"),
)

SPECS: dict[str, AgentSpec] = {s.intent: s for s in CATALOGUE}
INTENTS: tuple[str, ...] = tuple(SPECS)
PER_ACCOUNT: tuple[str, ...] = tuple(s.intent for s in CATALOGUE if s.per_account)
MODEL_INTENTS: tuple[str, ...] = tuple(s.intent for s in CATALOGUE if s.menu)


def spec(intent: str) -> AgentSpec | None:
    """The spec of an intent, or None for a finding that is not an agent's ("reading", "access")."""
    return SPECS.get(intent)


def title(agent: str) -> str:
    """The heading over an agent's findings."""
    s = SPECS.get(agent)
    return s.title if s is not None else agent


def rank(agent: str) -> int:
    """Where an agent's findings go in an answer (unknown agents last)."""
    s = SPECS.get(agent)
    return s.rank if s is not None else 99


def doing(intents: list[str], accounts: list[str], most: int = 6) -> list[tuple[str, str]]:
    """(intent, what it is doing in the person's words) for a route's work, at most `most` lines.

    A per-account agent gets a line for each of the first two accounts ("reading Globex's telemetry");
    an intent without a `doing` text (a draft) gets none.
    """
    out: list[tuple[str, str]] = []
    for intent in intents:
        s = SPECS.get(intent)
        if s is None or not s.doing:
            continue
        if s.per_account:
            for name in accounts[:2] or ["your accounts"]:
                out.append((intent, s.doing.format(a=name).replace("accounts's", "accounts'")))
        else:
            out.append((intent, s.doing))
    return list(dict.fromkeys(out))[:most]


def router_menu() -> str:
    """The intents a model may pick, each with what it covers (the router prompt's `{intents}`)."""
    return ", ".join(s.menu for s in CATALOGUE if s.menu)
