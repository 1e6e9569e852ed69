"""Conversation edits as types: each a typed operation on the last query ("same for March" is `SetPeriod`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.state import AccountRef, RowRef
from agents.when import Span
from tools.query import Aggregate, Filter, Sort

_DATE_FIELD = {"accounts": "renewal_date", "renewals": "renewal_date", "tickets": "opened_at",
               "activities": "occurred_on", "surveys": "responded_on", "fine_tunes": "created_on",
               "milestones": "due_date", "contacts": "last_engaged", "telemetry": "day", "plans": "target_date"}
_MONEY_FIELD = {"accounts": "arr", "renewals": "arr_before"}
TEXT_FIELDS = {"surveys": ("comment",), "tickets": ("subject", "body"), "activities": ("subject", "body"),
               "fine_tunes": ("loss_summary",)}
"""The fields that hold what a record says, by entity: what "what did they complain about?" quotes."""
_SCORE_FIELD = {"accounts": "health", "surveys": "score", "fine_tunes": "eval_score"}


@dataclass(frozen=True)
class SetPeriod:
    """Replace the window."""

    span: Span


@dataclass(frozen=True)
class ShiftPeriod:
    """Move the window by whole months (negative: earlier), or by a number of days ("the 60 after that")."""

    months: int
    text: str
    days: int = 0
    slide: bool = False  # "a year earlier": the same window moved back, not the unit just before it


@dataclass(frozen=True)
class SetFilters:
    """Replace filters on the same fields, add the rest."""

    filters: list[Filter]
    said: list[str]
    account_ids: list[int] | None = None  # account-level filters on other records, resolved to accounts
    widen: bool = False  # "include the red ones too": a value added to the field's kept values, not replacing them


@dataclass(frozen=True)
class SwitchEntity:
    """The same accounts (or rows' accounts), another kind of record."""

    entity: str
    owners: bool = False  # "who owns those?"
    senior: bool = False  # "who's the exec sponsor at each?": each account's most senior contact
    each: bool = False  # "who's the champion at each?": asked of every row's account, one answer per row


@dataclass(frozen=True)
class SelectRow:
    """One row of the last result, and what is asked about it."""

    row: RowRef
    how: str
    change: bool = False  # "how much did that one grow by?": the renewal's ARR change (an account's last renewal)
    fields: tuple[str, ...] = ()  # what is asked of it ("her email", "is she still there?"): those fields first
    about: str = "row"  # "account": the row's account is asked about ("and what's open on their side?")


@dataclass(frozen=True)
class SwitchPerson:
    """Another person named after a contact was shown ("and Riley's email?"): that contact, the fields asked.

    `names` are the contacts the name may mean; `local` when they are at the conversation's accounts (looked up
    there), otherwise anywhere in the asker's scope. Several in scope: the router asks which.
    """

    said: str
    names: tuple[str, ...]
    fields: tuple[str, ...]
    local: bool


@dataclass(frozen=True)
class PickRecord:
    """"the 503 one" when no row of the last answer says 503: the one record of the rows' accounts that does."""

    word: str
    entities: tuple[str, ...]  # the kinds of record it may be, the one the message names first
    fields: tuple[str, ...] = ()  # what is asked of it ("when was it filed": opened_at)
    distinct: bool = False  # a number or capitals ("503", "SSO"): a record's body may carry it too, not only its name


@dataclass(frozen=True)
class ExcludeRows:
    """The same query without rows of the last answer ("what's overdue besides that one")."""

    rows: list[RowRef]


@dataclass(frozen=True)
class Summarise:
    """Totals over the last rows (optionally narrowed first)."""

    aggregates: list[Aggregate]
    filters: list[Filter] = field(default_factory=list)
    account_ids: list[int] | None = None


@dataclass(frozen=True)
class UsageOf:
    """A usage measure (tokens, requests, spend) of the last answer's accounts over a window ("total cost of those")."""

    field: str
    fn: str
    words: str
    span: Span


@dataclass(frozen=True)
class Quote:
    """What the last rows say, quoted from their own text ("what did they complain about?")."""


@dataclass(frozen=True)
class Reorder:
    """Another order or length."""

    sort: Sort | None
    limit: int | None
    lowest: bool = False  # "the bottom 3": the lowest by the list's own order
    unlimited: bool = False  # "ok show me all of them" after a top 5: the whole list, no length
    page: bool = False  # "the next 3", "5 more": the ranks after the ones shown, same order and filters
    after_first: bool = False  # "the next 2 after it": after the first row (the one the answer was about)
    text: str = ""  # the words that asked for it, applied by it


@dataclass(frozen=True)
class ShowFields:
    """The same rows, with the fields a follow-up names ("and their renewal dates?", "what are their ARRs?")."""

    fields: list[str]


@dataclass(frozen=True)
class GroupBy:
    """The same question, per team / CSM / segment ("broken down by team").

    `top`: only the group(s) with the most records ("which account had the most of those?"), ties all kept.
    """

    field: str
    top: bool = False


@dataclass(frozen=True)
class Resubject:
    """The same question about other accounts."""

    accounts: list[AccountRef]


@dataclass(frozen=True)
class DropFilters:
    """Take conditions off ("drop the date filter", "any segment", "all priorities")."""

    fields: list[str]
    said: str = ""  # the phrase that took them off: applied, never listed as not applied


@dataclass(frozen=True)
class Unreadable:
    """A follow-up that asks for something the query cannot say ("exclude next year", "high ones first")."""

    phrase: str
    why: str


@dataclass(frozen=True)
class Unmatched:
    """The message points at a row of the last answer that is not there, or at several: ask, never guess."""

    rows: int
    among: tuple[int, ...] = ()  # the positions of the rows it could mean, when several


@dataclass(frozen=True)
class DrillGroup:
    """One group of a grouped answer, its rows listed ("lowest one - show me their accounts", "list his").

    `pick` says which group: "min" / "max" of the figure the groups were ranked by, "first" the group the answer
    put first. `value` is the group's key once the router has run the last query (None while only read).
    """

    pick: str
    said: str
    value: str | None = None


@dataclass(frozen=True)
class Remeasure:
    """The same usage figure (accounts, window, grouping, ranking) of another measure ("same for error rate")."""

    field: str
    fn: str
    words: str


@dataclass(frozen=True)
class RecordFilter:
    """Accounts listed for records of theirs, narrowed by those records ("only the high priority ones").

    After accounts with open tickets: the accounts whose records, as the list counted them, also match `filters`.
    """

    entity: str
    filters: list[Filter]
    said: list[str]
    of: str  # the records as the list counted them: "open tickets"


Edit = SetPeriod | ShiftPeriod | SetFilters | SwitchEntity | SelectRow | Summarise | Reorder | Resubject | Unmatched | \
    GroupBy | ShowFields | DropFilters | Unreadable | UsageOf | Quote | ExcludeRows | PickRecord | SwitchPerson | \
    DrillGroup | Remeasure | RecordFilter
