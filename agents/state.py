"""The graph's state, its dependencies, and the typed shapes passed between nodes (all JSON-serialisable).

Every shape a node hands to another (route, finding, draft, answer) is a TypedDict here, so its keys
are spelled in one place; `Finding` is the builder agents fill and turn into a `FindingDict`.
"""

from __future__ import annotations

import operator
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired, Protocol, TypedDict

from langchain_core.language_models.chat_models import BaseChatModel

from integrations.llm import CallLog
from tools.access import Asker
from tools.crm import Source, ToolContext
from tools.services import Services

if TYPE_CHECKING:  # chromadb is slow to import: only when memory is used
    from integrations.memory import Memory

MAX_INPUT_CHARS = 4000


class AccountRef(TypedDict):
    """An account a message is about."""

    account_id: int
    name: str


class Ambiguity(TypedDict):
    """A name that matched several accounts the asker may see."""

    text: str
    candidates: list[str]


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
    request: NotRequired[dict[str, Any]]  # what a request asks for (agents.requests.Request as JSON), intent "draft"
    reading: NotRequired[str]  # how the message was read, in one line (every answer starts with it)
    not_applied: NotRequired[list[str]]  # phrases carrying a constraint the answer could not apply
    clarify: NotRequired[str]  # one question to ask instead of answering (a follow-up that points nowhere)
    picked: NotRequired[str]  # the row of the last answer a follow-up picked ("the oldest one")
    base: NotRequired[Dialogue | None]  # the list a follow-up narrowed, for "all of them" / "the third one" next
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
    all_account_ids: list[int] | None  # while a follow-up is read: every account of the last query, not just shown
    fiscal_start: int | None  # the fiscal year's first month a CSM stated in this thread
    total: int | None  # how many rows the last query found (more than `rows` when the list was cut)


class Preset(TypedDict):
    """A route decided in code by the caller: no parsing of the message."""

    intents: list[str]
    accounts: list[AccountRef]


class Item(TypedDict):
    """A fact or recommendation, citing sources by their index in the finding's `sources`."""

    text: str
    src: list[int]
    kind: str


class Draft(TypedDict, total=False):
    """An action waiting for a CSM's approval: a follow-up email, a fact to remember, or a requested draft.

    A requested draft (`agents.requests`) is a "message" (e-mail or Slack) to a contact, a "meeting"
    (an e-mail with an .ics invite) or a "reminder" to the CSM at a date; `draft_kind` says which of
    email | slack | meeting | reminder was asked for.
    """

    id: str
    kind: Literal["follow_up", "fact", "message", "meeting", "reminder"]
    draft_kind: Literal["email", "slack", "meeting", "reminder"]
    status: Literal["pending"]
    account_id: int
    account: str
    subject: str
    body: str
    to: str
    to_email: str
    to_role: str
    to_slack: str  # a reminder's recipient: the CSM's Slack user id
    cc: list[dict[str, str]]  # more meeting attendees: name, email, role
    milestone_id: int
    milestone: str
    when: str  # ISO datetime (with offset) of the meeting's start or the reminder
    ends: str  # ISO datetime of the meeting's end
    timezone: str
    invite: str  # the meeting's iCalendar text (RFC 5545), attached to the e-mail on approval
    facts: list[str]  # the CRM facts the draft uses, each with its source


class FindingDict(TypedDict):
    """What one agent found about one account (or the portfolio)."""

    agent: str
    account_id: int | None
    account: str | None
    facts: list[Item]
    recommendations: list[Item]
    drafts: list[Draft]
    sources: list[Source]
    data: dict[str, Any]  # agent-specific figures (score, counts, accounts listed)


class Answer(TypedDict, total=False):
    """The reply: text, how it was made, numbered sources and drafts awaiting approval."""

    text: str
    mode: str  # "llm" | "deterministic" | "input" | "access" | "ambiguous" | "clarify"
    sources: list[dict[str, Any]]
    drafts: list[Draft]
    unsupported: list[str]
    note: str
    deterministic: str  # the rendering from findings alone (kept when the LLM's prose is used)
    reading: str  # how the question was read (the answer's first line)
    not_applied: list[str]  # constraint phrases the answer could not apply (each said in the answer)
    llm_calls: dict[str, int]  # chat-model calls this answer made, by kind (understand, prose, draft, needs)


class ActionResult(TypedDict, total=False):
    """What deciding a draft did."""

    draft_id: str
    kind: str
    decision: str  # "approve" | "skip" | "refused"
    already_done: bool
    fact_id: int
    activity_id: int
    text: str
    to: str
    sent_via: str  # "slack_connect" | "email_outbox" | "none"
    outbox: str
    file: str
    error: str
    snoozed_days: float
    memory: str
    due: str  # when a reminder is delivered (ISO datetime)


class Step(TypedDict, total=False):
    """One line of the trace: which node ran, for how long, with what outcome."""

    step: str
    seconds: float
    account: str
    facts: int
    mode: str
    note: str


def _acc(old: list[Any] | None, new: list[Any] | None) -> list[Any]:
    """Accumulate within a turn; None (sent by the first node of a turn) starts afresh."""
    if new is None:
        return []
    return (old or []) + new


def _latest(old: Any, new: Any) -> Any:
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
    findings: Annotated[list[FindingDict], _acc]
    """The agents' findings this turn (reset by `start`)."""
    trace: Annotated[list[Step], _acc]
    """Which nodes ran this turn and how long each took (reset by `start`)."""
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


class Payload(TypedDict, total=False):
    """What `dispatch` sends one agent node."""

    question: str
    who: str
    route: Route
    account: AccountRef


class Finding:
    """Builder for one agent's finding: facts and recommendations citing their sources."""

    def __init__(self, agent: str, account: AccountRef | dict[str, Any] | None = None):
        self.agent = agent
        self.account_id: int | None = (account or {}).get("account_id")
        self.account: str | None = (account or {}).get("name")
        self.facts: list[Item] = []
        self.recommendations: list[Item] = []
        self.drafts: list[Draft] = []
        self.sources: list[Source] = []
        self.data: dict[str, Any] = {}

    def source(self, s: Source | dict[str, Any]) -> int:
        """Add a source (deduplicated); its index within this finding."""
        key = (s.get("type"), str(s.get("id")))
        for i, have in enumerate(self.sources):
            if (have.get("type"), str(have.get("id"))) == key:
                return i
        self.sources.append({k: str(v) if v is not None else "" for k, v in s.items()})  # type: ignore[arg-type]
        return len(self.sources) - 1

    def fact(self, text: str, *sources: Source | dict[str, Any], kind: str = "") -> None:
        """A fact, with the records it came from."""
        self.facts.append({"text": text, "src": [self.source(s) for s in sources], "kind": kind})

    def recommend(self, text: str, *sources: Source | dict[str, Any]) -> None:
        """A recommendation, citing a playbook or record where there is one."""
        self.recommendations.append({"text": text, "src": [self.source(s) for s in sources], "kind": ""})

    def as_dict(self) -> FindingDict:
        """The finding as state holds it."""
        return {"agent": self.agent, "account_id": self.account_id, "account": self.account,
                "facts": self.facts, "recommendations": self.recommendations, "drafts": self.drafts,
                "sources": self.sources, "data": self.data}


class Actions(Protocol):
    """The side effects of an approved draft; the shell provides them (`retain.actions`)."""

    def send_follow_up(self, draft: Draft, text: str) -> ActionResult:
        """Send an approved follow-up (Slack Connect channel, else the email outbox)."""
        ...

    def snooze_follow_up(self, draft: Draft) -> ActionResult:
        """A skipped follow-up: keep its milestone quiet for a while."""
        ...

    def send_draft(self, draft: Draft, text: str) -> ActionResult:
        """Deliver an approved requested draft: e-mail (with its invite), Slack Connect, or a reminder at its time."""
        ...


class NoActions:
    """Nothing is sent: for tests and tools that never approve follow-ups."""

    def send_follow_up(self, draft: Draft, text: str) -> ActionResult:
        """Record that nothing was sent."""
        return {"sent_via": "none", "error": "no delivery is configured in this process"}

    def snooze_follow_up(self, draft: Draft) -> ActionResult:
        """Nothing to snooze."""
        return {}

    def send_draft(self, draft: Draft, text: str) -> ActionResult:
        """Record that nothing was sent."""
        return {"sent_via": "none", "error": "no delivery is configured in this process"}


@dataclass
class Deps:
    """What the nodes need and never checkpoint (the graph's `context`)."""

    services: Services
    chat: BaseChatModel | None = None
    log: CallLog = field(default_factory=CallLog)
    use_memory: bool = True
    budget_s: float = 90.0
    actions: Actions = field(default_factory=NoActions)
    started: float = field(default_factory=time.perf_counter)
    asker: Asker | None = None
    """Who this request acts for, resolved once by the caller (never checkpointed: it is decided per event)."""

    _contexts: dict[str, ToolContext] = field(default_factory=dict, repr=False)

    def asker_for(self, who: str) -> Asker:
        """The request's asker when `who` is theirs (the state's `who`), else that person, looked up."""
        if self.asker is not None and who == self.asker.key:
            return self.asker
        return self.services.asker(who)

    def tool_context(self, who: str) -> ToolContext:
        """One tool context per asker for this request (scores come from the process's `ScoreCache`)."""
        ctx = self._contexts.get(who)
        if ctx is None:
            ctx = self._contexts[who] = self.services.tool_context(self.asker_for(who))
        return ctx

    @property
    def memory(self) -> Memory | None:
        """The Chroma memory, or None when the embedding model is not available."""
        if not self.use_memory:
            return None
        try:
            return self.services.memory
        except Exception:  # noqa: BLE001 - memory is optional; agents fall back to SQL
            self.use_memory = False
            return None
