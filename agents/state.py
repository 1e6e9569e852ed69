"""The graph's state and the typed shapes passed between nodes (all JSON-serialisable).

Every shape a node hands to another (route, finding, answer, a node's update) is a TypedDict here
(drafts in `agents.drafts`), so its keys are spelled in one place; `Finding` is the builder agents
fill and turn into a `FindingDict`. The nodes' dependencies are `agents.context.Deps`.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired, TypedDict, TypeVar

from langgraph.types import Overwrite

from agents.context import Actions as Actions
from agents.context import Deps as Deps  # kept here for modules that still import it from the state
from agents.context import NoActions as NoActions
from agents.drafts import ActionResult as ActionResult
from agents.drafts import Draft as Draft
from tools.crm import Source

T = TypeVar("T")
Scalar = str | int | float | bool | None
"""One plain JSON value: what a figure in a finding, a row or a table cell is."""

MAX_INPUT_CHARS = 4000


class AccountRef(TypedDict):
    """An account a message is about."""

    account_id: int
    name: str


class Ambiguity(TypedDict):
    """A name that matched several accounts the asker may see."""

    text: str
    candidates: list[str]


RequestKind = Literal["email", "slack", "meeting", "reminder"]
"""What a request asks to draft."""


class RequestJSON(TypedDict):
    """A request as the route carries it (`agents.requests.Request.to_json`), with whom it names."""

    kind: RequestKind
    text: str
    role: str | None
    meeting: str | None
    topic: str
    when: dict[str, str | int | None] | None  # agents.requests.dates.Moment as JSON
    follow_up: bool
    person: NotRequired[str | None]  # the contact named, found at the account
    unknown_people: NotRequired[list[str]]  # names that matched no contact
    candidates: NotRequired[list[str]]  # "<name> at <account>", when the name is at several accounts
    among: NotRequired[list[str]]  # the conversation's accounts, when it has several and the request names none
    about: NotRequired[dict[str, str | int] | None]  # the one record the thread was about (agents.requests.thread)


class Route(TypedDict):
    """What the router understood: intents, accounts, and how it got there."""

    intents: list[str]
    accounts: list[AccountRef]
    accounts_via: str | None  # "named" | "conversation" | None
    ambiguous: list[Ambiguity]
    denied: list[str]  # names the asker typed but may not see (echoed as typed)
    window_days: int | None
    method: str  # "patterns" | "query" | "example (0.83)" | "llm" | "patterns (llm failed)" | "edit: ..."
    plans: list[dict[str, Any]]  # typed queries to run (agents.understand.Plan as JSON), for intent "query"
    request: NotRequired[RequestJSON]  # what a request asks for, intent "draft"
    reading: NotRequired[str]  # how the message was read, in one line (every answer starts with it)
    not_applied: NotRequired[list[str]]  # phrases carrying a constraint the answer could not apply
    clarify: NotRequired[str]  # one question to ask instead of answering (a follow-up that points nowhere)
    refused: NotRequired[str]  # why the team or CSM asked about is outside the asker's scope (never a count of 0)
    picked: NotRequired[str]  # the row of the last answer a follow-up picked ("the oldest one")
    left_out: NotRequired[str]  # the rows of the last answer a follow-up leaves out ("besides that one")
    rerun: NotRequired[str]  # "only Lena's" after a top 5: the ranking re-run on her accounts, and how many were hers
    dropped: NotRequired[str]  # the filters of the last answer a follow-up took off ("drop the green filter")
    base: NotRequired[Dialogue | None]  # the list a follow-up narrowed, for "all of them" / "the third one" next
    windowed: NotRequired[Dialogue | None]  # the last list with a window, when this edit has none (for a shift)
    stated: NotRequired[bool]  # `clarify` is an answer made here ("no contact named Raj there"), not a question
    used: NotRequired[list[str]]  # phrases a follow-up's edits applied (never reported as "not applied")
    said: NotRequired[list[str]]  # phrases of those the reading line names ("the 60 after that")
    fiscal_start: NotRequired[int]  # the fiscal year's first month, as stated in this thread ("our FY starts in Feb")
    tie: NotRequired[str]  # a pick over the whole query that several rows share ("the biggest": two at $400,000)


class RowRef(TypedDict):
    """One record of an answer's list, as the next message may point at it ("the second", "the July one")."""

    id: int  # the record's id (the account's id for accounts)
    account_id: int
    account: str
    label: str  # subject, name, kind: what the record is called
    date: str | None  # its date (the entity's date field)
    values: dict[str, Any]  # the figures shown, for "the biggest", "the worst"


class Pending(TypedDict):
    """A clarifying question Retain asked: the question it could not answer, the name and the candidates offered."""

    question: str
    text: str
    candidates: list[str]


class Dialogue(TypedDict, total=False):
    """The conversation's state: the last typed query, its result rows and its subject, checkpointed per thread.

    A new message either replaces it (a new question) or edits it (`agents.understand.edits`).
    """

    question: str
    intents: list[str]
    plan: dict[str, Any] | None  # agents.understand.Plan as JSON
    entity: str | None
    rows: list[RowRef]
    accounts: list[AccountRef]
    base: Dialogue | None  # the list before the last narrowing (a count of some, a top 3, a picked row)
    windowed: Dialogue | None  # the last query of the thread with a window, when this one has none (a shift moves it)
    all_account_ids: list[int] | None  # while a follow-up is read: every account of the last query, not just shown
    fiscal_start: int | None  # the fiscal year's first month a CSM stated in this thread
    total: int | None  # how many rows the last query found (more than `rows` when the list was cut)
    pending: Pending | None  # the clarifying question just asked ("which Vandelay?"), for a bare reply


class Preset(TypedDict):
    """A route decided in code by the caller: no parsing of the message."""

    intents: list[str]
    accounts: list[AccountRef]


class Item(TypedDict):
    """A fact or recommendation, citing sources by their index in the finding's `sources`."""

    text: str
    src: list[int]
    kind: str


class Table(TypedDict):
    """Rows as the terminal and Slack show them: column titles and formatted cells."""

    columns: list[str]
    rows: list[list[str]]


class MetricFigure(TypedDict):
    """A metric the query agent computed: its value, the inputs of its formula and its period."""

    metric: str
    value: float | None
    inputs: dict[str, float]
    start: str
    end: str
    formula: str


class DetectorNote(TypedDict):
    """A tuning detector that fired: its kind, severity and the figures it fired on."""

    kind: str
    severity: str
    values: dict[str, Scalar]


class NextStep(TypedDict):
    """A QBR next step: what to do, who does it, by when (ISO date)."""

    action: str
    owner: str
    due: str


class MonthFigure(TypedDict):
    """A QBR month's usage: tokens (millions), requests (thousands) and peak active seats."""

    label: str
    tokens_m: float
    requests_k: float
    active_seats: int


class VersionFigure(TypedDict):
    """A model version's quarter: p95 latency (ms), error rate (%), requests."""

    label: str
    p95_ms: float
    error_pct: float
    requests: int


class TuneFigure(TypedDict):
    """A fine-tune with an eval score."""

    label: str
    eval_score: float


class NpsPoint(TypedDict):
    """One NPS answer: its date (ISO) and score (0-10)."""

    date: str
    score: int


class FindingData(TypedDict, total=False):
    """An agent's figures beside its facts: what the graph, the composer, Slack and the QBR deck read.

    Each agent fills only its own keys (the comment names the agent).
    """

    shape: str  # query: the plan's shape ("lookup", "list", "aggregate", "compare", "metric", "today")
    title: str  # query: what the list is called
    entity: str  # query: the entity the rows are of (accounts, tickets, contacts...)
    rows: list[RowRef]  # query, portfolio: the rows shown, for follow-ups that point at one
    accounts: list[AccountRef]  # query, portfolio: the accounts the answer is about
    table: Table  # query: the rows as a table
    metric: MetricFigure  # query: a computed metric
    count: int  # portfolio: how many accounts matched
    ids: list[int]  # portfolio: every account counted, for follow-ups asked of all of them
    total: int  # query: how many rows the query found, before its limit
    plan: dict[str, Any]  # query: the plan as run, when the run re-read it (a kind with no records: any kind)
    score: float  # health
    band: str  # health
    trend: float | None  # health: points against 30 days ago
    p_renew: float | None  # renewal
    segment: str  # renewal
    renewal_date: str | None  # renewal
    arr: float  # renewal
    play: str | None  # renewal, expansion: the playbook section recommended
    signals: list[str]  # expansion: seats, growth, new_use
    detectors: list[DetectorNote]  # tuning
    eval_score: float  # tuning
    unanswered_risk: list[str]  # health, renewal (risk): kinds of risk nobody has answered
    method: str  # needs: how the profile was made (rules, llm)
    counts: dict[str, int]  # needs: items per profile field
    llm_gate: str  # needs: why no model read the records this time
    request: RequestJSON  # draft: the request as read (agents.requests)
    note: str  # draft
    change_pct: int  # qbr_usage: tokens per day, last month against the month before the quarter
    months: list[MonthFigure]  # qbr_usage
    versions: list[VersionFigure]  # qbr_models
    fine_tunes: list[TuneFigure]  # qbr_models
    by_priority: dict[str, int]  # qbr_support: tickets opened per priority
    responses: list[NpsPoint]  # qbr_sentiment
    steps: list[NextStep]  # qbr_plan


class FindingDict(TypedDict):
    """What one agent found about one account (or the portfolio)."""

    agent: str
    account_id: int | None
    account: str | None
    facts: list[Item]
    recommendations: list[Item]
    drafts: list[Draft]
    sources: list[Source]
    data: FindingData  # agent-specific figures (score, counts, accounts listed)


class NumberedSource(Source, total=False):
    """A source as the reply numbers it ([1], [2]): `n` is its number."""

    n: int


class Answer(TypedDict, total=False):
    """The reply: text, how it was made, numbered sources and drafts awaiting approval."""

    text: str
    mode: str  # "llm" | "deterministic" | "input" | "access" | "ambiguous" | "clarify"
    sources: list[NumberedSource]
    drafts: list[Draft]
    unsupported: list[str]
    note: str
    deterministic: str  # the rendering from findings alone (kept when the LLM's prose is used)
    reading: str  # how the question was read (the answer's first line)
    not_applied: list[str]  # constraint phrases the answer could not apply (each said in the answer)
    llm_calls: dict[str, int]  # chat-model calls this answer made, by kind (understand, prose, draft, needs)


class Step(TypedDict, total=False):
    """One line of the trace: which node ran, for how long, with what outcome."""

    step: str
    seconds: float
    account: str
    facts: int
    mode: str
    note: str
    actions: list[ActionResult]  # approve: what deciding each draft did


class RouteStep(Route):
    """The router's line of the trace: its route, with the step's name and time."""

    step: str
    seconds: float


def _latest(old: T, new: T) -> T:
    """The last value written wins (two agents of one turn may both set the conversation's subject)."""
    return new


class State(TypedDict, total=False):
    """One conversation thread, checkpointed per thread id."""

    question: str
    """The message being answered (this turn)."""
    who: str
    """The asker: email, Slack user id or name; access is decided from it on every tool call."""
    messages: Annotated[list[dict[str, str]], operator.add]
    """The conversation so far (user and assistant turns), appended each turn."""
    route: Route
    """What the router understood this turn."""
    preset: Preset | None
    """Intents and accounts decided by the caller (a scheduled job), used instead of routing; one turn only."""
    findings: Annotated[list[FindingDict], operator.add]
    """The agents' findings this turn (`start` resets them with `Overwrite`)."""
    trace: Annotated[list[Step | RouteStep], operator.add]
    """Which nodes ran this turn and how long each took (`start` resets them with `Overwrite`)."""
    answer: Answer
    """The reply of this turn."""
    last_accounts: Annotated[list[AccountRef], _latest]
    """The accounts the conversation is about, for follow-ups like 'and their renewal?'."""
    last_result: Annotated[list[int], _latest]
    """The account ids of the last list shown, in order, for 'which of those…', 'the first one'."""
    last_topic: Annotated[str | None, _latest]
    """The agent a bare follow-up continues with ("why did it fail?" after a list of fine-tunes)."""
    dialogue: Annotated[Dialogue | None, _latest]
    """The last typed query, its rows and subject: what "same for March" or "the second one" edits."""
    actions: list[ActionResult]
    """What approving, editing or skipping this turn's drafts did."""


class Update(TypedDict, total=False):
    """What a node returns: the part of `State` it changes (lists with a reducer are appended to)."""

    messages: list[dict[str, str]]
    route: Route
    preset: Preset | None
    findings: list[FindingDict] | Overwrite
    trace: list[Step | RouteStep] | Overwrite
    answer: Answer
    last_accounts: list[AccountRef]
    last_result: list[int]
    last_topic: str | None
    dialogue: Dialogue | None
    actions: list[ActionResult]


class Payload(TypedDict, total=False):
    """What `dispatch` sends one agent node."""

    question: str
    who: str
    route: Route
    account: AccountRef
    dialogue: Dialogue | None  # the thread's last query and rows (a request's "it" is one of them)


class Finding:
    """Builder for one agent's finding: facts and recommendations citing their sources."""

    def __init__(self, agent: str, account: AccountRef | None = None):
        self.agent = agent
        self.account_id: int | None = account["account_id"] if account else None
        self.account: str | None = account["name"] if account else None
        self.facts: list[Item] = []
        self.recommendations: list[Item] = []
        self.drafts: list[Draft] = []
        self.sources: list[Source] = []
        self.data: FindingData = {}

    def source(self, s: Source) -> int:
        """Add a source (deduplicated); its index within this finding."""
        key = (s.get("type"), str(s.get("id")))
        for i, have in enumerate(self.sources):
            if (have.get("type"), str(have.get("id"))) == key:
                return i
        self.sources.append({k: str(v) if v is not None else "" for k, v in s.items()})  # type: ignore[arg-type]
        return len(self.sources) - 1

    def fact(self, text: str, *sources: Source, kind: str = "") -> None:
        """A fact, with the records it came from."""
        self.facts.append({"text": text, "src": [self.source(s) for s in sources], "kind": kind})

    def recommend(self, text: str, *sources: Source) -> None:
        """A recommendation, citing a playbook or record where there is one."""
        self.recommendations.append({"text": text, "src": [self.source(s) for s in sources], "kind": ""})

    def as_dict(self) -> FindingDict:
        """The finding as state holds it."""
        return {"agent": self.agent, "account_id": self.account_id, "account": self.account,
                "facts": self.facts, "recommendations": self.recommendations, "drafts": self.drafts,
                "sources": self.sources, "data": self.data}
