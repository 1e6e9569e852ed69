"""Retain's LangGraph graph: route, fan out to the agents in parallel, compose, approve.

    START -> start -> route -> (Send) one node per agent of `agents.specs` (needs, onboarding, tuning,
             renewal, health, expansion, portfolio, remember, help, query, draft) -> compose -> approve? -> END

Facts come from code (CRM tools, scorecard, detectors); the LLM, when configured, reads the
question only when patterns are unsure and writes the reply from verified findings. Each thread
(a Slack thread, a CLI session) is checkpointed, so follow-ups know the accounts in play, and a
drafted action pauses the graph (`interrupt`) until a CSM approves, edits or skips it.
Dependencies travel as the graph's `context` (`Deps`), never in the checkpointed state.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from importlib import import_module
from typing import Literal, Protocol, TypeVar, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Overwrite, Send, interrupt

from agents import (
    crm_query,
    health,
    llm_gate,
    portfolio,
    prose_gate,
    router,
    specs,
    understand,
)
from agents.approve import execute
from agents.composer import compose
from agents.context import Deps
from agents.requests import draft
from agents.router_people import not_held
from agents.state import (
    MAX_INPUT_CHARS,
    AccountRef,
    Answer,
    Finding,
    FindingDict,
    Payload,
    Route,
    RowRef,
    State,
    Update,
)
from core.errors import AccessDenied, NotFoundError, RetainError
from tools import crm
from tools.crm import ToolContext
from tools.plain import plain

Specialist = Callable[[Deps, ToolContext, AccountRef], Finding]
RECURSION_LIMIT = 25
Step = Callable[[Payload, Deps], Update]
S = TypeVar("S", State, Payload)
In = TypeVar("In", contravariant=True)


def reply(text: str, kind: str) -> Answer:
    """An answer made without the agents (bad input, no access, a clarifying question)."""
    return {"text": text, "mode": kind, "sources": [], "drafts": [], "unsupported": [], "note": ""}


def _context(runtime: Runtime[Deps] | None, fallback: Deps | None) -> Deps:
    deps = (runtime.context if runtime is not None else None) or fallback
    if deps is None:
        raise RetainError("The graph was run without its dependencies (context=Deps(...)).")
    return deps


def start(state: State) -> Update:
    """Begin a turn: reset the turn's findings, refuse empty or oversized messages."""
    q = (state.get("question") or "").strip()
    out: Update = {"findings": Overwrite([]), "trace": Overwrite([]), "answer": {}, "actions": [],
                "messages": [{"role": "user", "content": q[:MAX_INPUT_CHARS]}]}
    if not q:
        out["answer"] = reply("Your message was empty. Ask about an account (\u201chow is Acme doing?\u201d) "
                              "or say \u201chelp\u201d.", "input")
    elif len(q) > MAX_INPUT_CHARS:
        out["answer"] = reply(f"Your message is {len(q):,} characters; I read up to {MAX_INPUT_CHARS:,}. "
                              "Ask a shorter question, or paste only the part that matters.", "input")
    return out


def after_start(state: State) -> Literal["compose", "route"]:
    """An answer already (bad input) goes straight to compose."""
    return "compose" if state.get("answer") else "route"


def as_typed(span: str) -> str:
    """An account name as the person typed it, without the pieces of a possessive ("Acme s", "s Acme")."""
    name = re.sub(r"^(?:s|'s|\u2019s)\s+", "", span.strip())
    return re.sub(r"(?:\s+s|'s|\u2019s|'|\u2019)$", "", name).strip() or span


def after_route(r: Route) -> Answer | None:
    """A refusal, a disambiguation or a clarifying question instead of running the agents."""
    if r.get("clarify"):
        return reply(r["clarify"], "deterministic" if r.get("stated") else "clarify")
    if r.get("refused"):
        return reply(r["refused"], "access")
    if r["denied"] and not r["accounts"]:
        names = ", ".join(dict.fromkeys(as_typed(n) for n in r["denied"]))
        return reply(f"{names} is not in your portfolio, so I can't share its details. Ask its owner, your "
                     "manager or an admin if you need access.", "access")
    if r["ambiguous"] and not r["accounts"]:
        a = r["ambiguous"][0]
        return reply(f"\u201c{a['text']}\u201d matches several accounts: {', '.join(a['candidates'])}. "
                     "Which one do you mean?", "ambiguous")
    needs_account = [i for i in r["intents"] if i in specs.SPECS and specs.SPECS[i].needs_account]
    if needs_account and not r["accounts"] and "portfolio" not in r["intents"]:
        return reply("Which account do you mean? Name it (\u201chow is Acme doing?\u201d), or ask about your "
                     "portfolio (\u201cwhich of my renewals are at risk?\u201d).", "clarify")
    return None


def dispatch(state: State) -> list[Send] | Literal["compose"]:
    """Fan out: one Send per (agent, account), up to three accounts; portfolio, remember, help once."""
    if state.get("answer"):
        return "compose"
    r = state["route"]
    sends = []
    base: Payload = {"question": state["question"], "who": state.get("who", ""), "route": r,
                     "dialogue": state.get("dialogue")}
    for intent in r["intents"]:
        if intent in specs.PER_ACCOUNT:
            sends += [Send(intent, {**base, "account": a}) for a in r["accounts"][:3]]
        elif intent in specs.SPECS:
            sends.append(Send(intent, base))
    return sends or [Send("help", base)]


def after_compose(state: State) -> Literal["approve", "__end__"]:
    """Drafts wait for approval; anything else is done."""
    return "approve" if (state.get("answer") or {}).get("drafts") else "__end__"


def read_as(r: Route) -> Finding:
    """The reading line, and one line per constraint phrase the answer could not apply."""
    f = Finding("reading")
    f.fact(r.get("reading", ""), kind="reading")
    for phrase in r.get("not_applied") or []:
        f.fact(not_held(phrase) or f"I did not apply \u2018{phrase}\u2019: I could not turn it into a date, order or "
               "filter for this answer, so the answer below does not take it into account.", kind="not_applied")
    return f


def remember(payload: Payload, deps: Deps) -> Update:
    """Draft a fact to remember (saved only once a CSM approves it)."""
    accounts = payload["route"]["accounts"]
    if not accounts:  # a model's route may say "remember" without an account: ask, never crash
        f = Finding("remember")
        f.fact("Which account is this about? Say \u201cremember that <account> ...\u201d.", kind="clarify")
        return {"findings": [f.as_dict()], "trace": [{"step": "remember"}]}
    text = re.sub(r"^\s*(please\s+)?(remember|note|keep in mind|fyi)\s*(that|:|,)?\s*", "",
                  payload["question"], flags=re.I).strip()
    acct = accounts[0]
    f = Finding("remember", acct)
    f.fact(f"To remember for {acct['name']}: \u201c{text}\u201d", kind="fact_draft")
    f.drafts.append({"id": uuid.uuid4().hex, "kind": "fact", "account_id": acct["account_id"],
                     "account": acct["name"], "subject": f"Remember for {acct['name']}", "body": text})
    return {"findings": [f.as_dict()], "trace": [{"step": "remember"}]}


def help_node(payload: Payload, deps: Deps) -> Update:
    """What Retain can do (and, for a question outside it, that it is outside)."""
    f = Finding("help")
    if payload["route"].get("method") == "off-topic":
        f.fact("That's outside what I know: I answer questions about your customers from the CRM, with sources.",
               kind="help")
    f.fact(health.HELP, kind="help")
    return {"findings": [f.as_dict()], "trace": [{"step": "help"}]}


def route_node(state: State, deps: Deps) -> Update:
    """Route the message (or take the caller's preset), and stop early for a refusal or a question."""
    t = time.perf_counter()
    preset = state.get("preset")
    if preset:  # a caller that knows what it wants (the onboarding sweep): access is still checked by tools
        r: Route = {"intents": preset["intents"], "accounts": preset["accounts"], "accounts_via": "preset",
                    "ambiguous": [], "denied": [], "window_days": None, "method": "preset", "plans": []}
        r = plain(r)
    else:
        r = plain(router.route(deps, state["question"], state.get("who", ""), state.get("last_accounts") or [],
                               state.get("last_result") or [], state.get("last_topic"), state.get("dialogue")))
    findings: list[FindingDict] = []
    upd: Update = {"route": r, "preset": None, "findings": findings,
                   "trace": [{"step": "route", "seconds": round(time.perf_counter() - t, 4), **r}]}
    stop = after_route(r)
    dialogue = state.get("dialogue") or {}
    if stop is not None and stop["mode"] == "ambiguous":  # a bare reply next ("the second") picks a candidate
        upd["dialogue"] = {**dialogue, "pending": {"question": state["question"], "text": r["ambiguous"][0]["text"],
                                                   "candidates": list(r["ambiguous"][0]["candidates"])}}
    elif dialogue.get("pending"):
        upd["dialogue"] = {**dialogue, "pending": None}
    if stop is not None:
        upd["answer"] = stop
    elif r["accounts"]:
        upd["last_accounts"] = r["accounts"]
    if stop is None and r.get("reading"):  # the answer's first line: how the message was read
        findings.append(plain(read_as(r).as_dict()))
    if stop is None and r["denied"]:  # some named accounts are out of scope: say so, never name them
        f = Finding("access")
        f.fact(f"{', '.join(dict.fromkeys(r['denied']))}: not in your portfolio, so it is left out of this answer",
               kind="access")
        findings.append(plain(f.as_dict()))
    return upd


def specialist(name: str, run: Specialist) -> Step:
    """The node of a per-account agent: its `run` for the payload's account, an access refusal as its finding."""

    def node(payload: Payload, deps: Deps) -> Update:
        t = time.perf_counter()
        ctx = deps.tool_context(payload["who"])
        try:
            f = run(deps, ctx, payload["account"])
        except (AccessDenied, NotFoundError) as exc:
            f = Finding(name, payload["account"])
            f.fact(str(exc), kind="error")
        upd: Update = {"findings": [plain(f.as_dict())],
                    "trace": [{"step": name, "account": payload["account"]["name"],
                               "seconds": round(time.perf_counter() - t, 4), "facts": len(f.facts),
                               **({"note": f.data["llm_gate"]} if f.data.get("llm_gate") else {})}]}
        if len(payload["route"]["intents"]) == 1:  # "why did it fail?" continues with this agent
            upd["last_topic"] = name
        upd["dialogue"] = {"question": payload["question"], "intents": payload["route"]["intents"], "plan": None,
                           "entity": "accounts", "rows": [], "accounts": payload["route"]["accounts"],
                           "base": payload["route"].get("base"), "fiscal_start": payload["route"].get("fiscal_start")}
        return upd

    node.__name__ = name
    return node


def portfolio_node(payload: Payload, deps: Deps) -> Update:
    """The portfolio agent, once per message; its accounts become what a follow-up points at."""
    t = time.perf_counter()
    f = portfolio.run(deps, deps.tool_context(payload["who"]), payload["route"], payload["question"])
    plans = payload["route"].get("plans") or []
    rows: list[RowRef] = f.data.pop("rows", [])
    return {"findings": [plain(f.as_dict())],
            "trace": [{"step": "portfolio", "seconds": round(time.perf_counter() - t, 4)}],
            "last_accounts": f.data["accounts"][:1] if f.data["count"] == 1 else [],
            # every account the answer counted, the shown ones first: "the biggest" is asked of all of them
            "last_result": list(dict.fromkeys([a["account_id"] for a in f.data["accounts"]] + f.data.get("ids", []))),
            "dialogue": {"question": payload["question"], "intents": ["portfolio"],
                         "plan": plans[0] if plans else None, "entity": "accounts", "rows": rows,
                         "accounts": [], "total": f.data["count"],
                         "fiscal_start": payload["route"].get("fiscal_start")}}



def query_node(payload: Payload, deps: Deps) -> Update:
    """The typed queries of the route; a model's reading that finds nothing asks instead of answering."""
    t = time.perf_counter()
    ctx = deps.tool_context(payload["who"])
    found = [crm_query.run_plan(deps, ctx, understand.from_json(p), payload["who"])
             for p in payload["route"].get("plans") or []]
    unread = payload["route"]["method"] == "llm query" and bool(found) and not found[0].data.get("rows")
    if unread:
        # A model's reading that finds nothing is not a fact ("0 accounts"): say so and ask instead.
        f = Finding("query")
        f.fact("I could not read this question reliably enough to state a result: the only reading I had (a "
               "model's) matched no records, which may mean I misread it. Name the accounts, a field or a "
               "window (\u201crenewals in the next 60 days\u201d, \u201cwho is Globex's champion?\u201d).",
               kind="clarify")
        found = [f]
    upd: Update = {"findings": [plain(f.as_dict()) for f in found],
                "trace": [{"step": "query", "seconds": round(time.perf_counter() - t, 4),
                           "facts": sum(len(f.facts) for f in found)}]}
    refs = [a for f in found for a in f.data.get("accounts", [])]
    plans = payload["route"].get("plans") or []
    if found and plans and not unread:
        first = understand.from_json(plans[0])
        upd["dialogue"] = {"question": payload["question"], "intents": ["query"],
                           "plan": found[0].data.pop("plan", None) or plans[0],  # as run, when the run re-read it
                           "entity": found[0].data.get("entity"), "rows": found[0].data.pop("rows", []),
                           "total": found[0].data.pop("total", None),
                           "accounts": first.accounts, "base": payload["route"].get("base"),
                           "windowed": payload["route"].get("windowed"),
                           "fiscal_start": payload["route"].get("fiscal_start")}
        upd["findings"] = [plain(f.as_dict()) for f in found]
    if found and found[0].data.get("entity"):
        upd["last_topic"] = understand.TOPIC.get(found[0].data["entity"], "health")
    if found and found[0].data.get("shape") in ("list", "aggregate", "compare", "today"):
        upd["last_result"] = list(dict.fromkeys(a["account_id"] for a in refs))
        if len(upd["last_result"]) == 1:
            upd["last_accounts"] = refs[:1]
    elif refs:
        upd["last_accounts"] = refs[:1]
    return upd



def draft_node(payload: Payload, deps: Deps) -> Update:
    """A request: one pending draft (its answer is made here), or one clarifying question."""
    t = time.perf_counter()
    f, ans = draft.run(deps, deps.tool_context(payload["who"]), payload)
    return {"findings": [plain(f.as_dict())], "answer": plain(ans),
            "trace": [{"step": "draft", "seconds": round(time.perf_counter() - t, 4), "mode": ans["mode"],
                       "note": ans.get("note", "")}]}



def compose_node(state: State, deps: Deps) -> Update:
    """The reply from this turn's findings (or the answer an earlier step already made)."""
    if state.get("answer"):
        return {"messages": [{"role": "assistant", "content": state["answer"]["text"]}]}
    t = time.perf_counter()
    intents = state["route"]["intents"]
    single = len([i for i in intents if i != "portfolio"]) <= 1
    over_time = time.perf_counter() - deps.started > deps.budget_s
    names = crm.live_account_names(deps.services.store)
    findings = state.get("findings") or []
    no_prose = llm_gate.sure(state["question"], state["route"]) if deps.chat is not None else ""
    if deps.chat is not None and not no_prose and any(f["sources"] for f in findings):
        no_prose = prose_gate.prose_off(deps)
    ans = plain(compose(deps, state["question"], findings, names,
                        calls_left=0 if over_time else (1 if single else 2) - len(deps.log.calls),
                        no_prose=no_prose, verdict=lambda ok: prose_gate.verdict(deps, ok)))
    return {"answer": ans, "messages": [{"role": "assistant", "content": ans["text"]}],
            "trace": [{"step": "compose", "mode": ans["mode"], "note": ans.get("note", ""),
                       "seconds": round(time.perf_counter() - t, 4)}]}



def approve_node(state: State, deps: Deps) -> Update:
    """Wait for a decision on each draft (`interrupt`), then carry it out."""
    done = []
    for d in state["answer"]["drafts"]:
        decision = interrupt({"draft": d, "options": ["approve", "edit", "skip"]})
        if isinstance(decision, str):
            decision = {"decision": decision}
        done.append(execute(deps, str(decision.get("who") or ""), d, decision))
    return {"actions": done, "trace": [{"step": "approve", "actions": done}]}


def _per_account_runs() -> dict[str, Specialist]:
    """Each per-account agent's `run`, from the module its catalogue entry names.

    The module is `agents/<intent>.py` unless the spec's `module` says otherwise, so adding such an agent is its
    spec, its module and its tests, with no line here.
    """
    return {s.intent: cast(Specialist, import_module(f"agents.{s.module or s.intent}").run)
            for s in specs.CATALOGUE if s.per_account}


RUNS: dict[str, Specialist | Step] = {
    **_per_account_runs(),
    "portfolio": portfolio_node, "remember": remember, "help": help_node, "query": query_node, "draft": draft_node,
}
"""The one intent -> code table: a per-account agent's `run(deps, ctx, account) -> Finding` (`agents.specs`
says which intents run per account), else a step `(payload, deps) -> update` run once per message."""


class Node(Protocol[In]):
    """A LangGraph node: the state (or a `Send`'s payload) in, an update out, dependencies from the runtime."""

    def __call__(self, state: In, runtime: Runtime[Deps]) -> Update:
        """Run the step."""
        ...


def _bind(step: Callable[[S, Deps], Update], default_deps: Deps | None) -> Node[S]:
    """A step as a LangGraph node: its dependencies from the run's `context` (or `default_deps`)."""

    def node(state: S, runtime: Runtime[Deps]) -> Update:
        return step(state, _context(runtime, default_deps))

    node.__name__ = getattr(step, "__name__", "node")
    return node


def _agent_step(name: str) -> Step:
    """The step an intent runs: a per-account agent's `run` wrapped by `specialist`, else its step as it is."""
    if name in specs.PER_ACCOUNT:
        return specialist(name, cast(Specialist, RUNS[name]))
    return cast(Step, RUNS[name])


def build_graph(default_deps: Deps | None = None,
                checkpointer: BaseCheckpointSaver[str] | None = None) -> CompiledStateGraph[State, Deps, State, State]:
    """Compile the graph; dependencies come from `context` (or `default_deps`, for LangGraph Studio)."""
    g = StateGraph(State, context_schema=Deps)
    g.add_node("start", start)
    g.add_node("route", _bind(route_node, default_deps))
    for name in specs.INTENTS:  # every intent of the catalogue is a node; one without code fails here
        g.add_node(name, _bind(_agent_step(name), default_deps))
    g.add_node("compose", _bind(compose_node, default_deps))
    g.add_node("approve", _bind(approve_node, default_deps))
    g.add_edge(START, "start")
    g.add_conditional_edges("start", after_start, ["compose", "route"])
    g.add_conditional_edges("route", dispatch, [*specs.INTENTS, "compose", END])
    for name in specs.INTENTS:
        g.add_edge(name, "compose")
    g.add_conditional_edges("compose", after_compose, ["approve", END])
    g.add_edge("approve", END)
    return g.compile(checkpointer=checkpointer)
