"""Retain's LangGraph graph: route, fan out to the agents in parallel, compose, approve.

    START -> start -> route -> (Send) needs | onboarding | tuning | renewal | health | portfolio
                                       | remember | help  -> compose -> approve? -> END

Facts come from code (CRM tools, scorecard, detectors); the LLM, when configured, reads the
question only when patterns are unsure and writes the reply from verified findings. Each thread
(a Slack thread, a CLI session) is checkpointed, so follow-ups know the accounts in play, and a
drafted action pauses the graph (`interrupt`) until a CSM approves, edits or skips it.
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from datetime import datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send, interrupt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from agents import account as account_agent
from agents import needs, onboarding, renewal, router, tuning
from agents.composer import compose
from agents.state import MAX_INPUT_CHARS, Deps, Finding, State, plain
from integrations.crm.models import CSM, Account, ActionLog, Activity, RememberedFact
from integrations.llm import CallLog, ChatModel
from retain.errors import AccessDenied, NotFoundError, RetainError
from retain.runtime import Runtime
from tools import access

SPECIALISTS = {"needs": needs.run, "onboarding": onboarding.run, "tuning": tuning.run,
               "renewal": renewal.run, "health": account_agent.health}
RECURSION_LIMIT = 25


class _Counted:
    """A chat model whose calls are also recorded in one request's log."""

    def __init__(self, inner: ChatModel, log: CallLog):
        self.inner, self.log, self.name = inner, log, inner.name

    def complete(self, messages: list[dict[str, str]], **kw: Any) -> str:
        n = len(self.inner.log.calls)
        try:
            return self.inner.complete(messages, **kw)
        finally:
            self.log.calls.extend(self.inner.log.calls[n:])


def _deps(config: Any, fallback: Deps | None) -> Deps:
    deps = ((config or {}).get("configurable") or {}).get("deps") or fallback
    if deps is None:
        raise RetainError("The graph was run without its dependencies (configurable.deps).")
    return deps  # type: ignore[no-any-return]


def build_graph(default_deps: Deps | None = None, checkpointer: Any = None) -> Any:
    """Compile the graph; dependencies come from config['configurable']['deps'] or `default_deps`."""

    def start(state: State, config: RunnableConfig) -> dict[str, Any]:
        q = (state.get("question") or "").strip()
        out: dict[str, Any] = {"findings": None, "trace": None, "answer": {}, "actions": [],
                               "messages": [{"role": "user", "content": q[:MAX_INPUT_CHARS]}]}
        if not q:
            out["answer"] = _reply("Your message was empty. Ask about an account (\u201chow is Acme doing?\u201d) "
                                   "or say \u201chelp\u201d.", "input")
        elif len(q) > MAX_INPUT_CHARS:
            out["answer"] = _reply(f"Your message is {len(q):,} characters; I read up to {MAX_INPUT_CHARS:,}. "
                                   "Ask a shorter question, or paste only the part that matters.", "input")
        return out

    def route_node(state: State, config: RunnableConfig) -> dict[str, Any]:
        deps = _deps(config, default_deps)
        t = time.perf_counter()
        r = router.route(deps, state["question"], state.get("who", ""), state.get("last_accounts") or [])
        r = plain(r)
        trace = [{"step": "route", "seconds": round(time.perf_counter() - t, 4), **r}]
        if r["denied"] and not r["accounts"]:
            names = ", ".join(dict.fromkeys(r["denied"]))
            return {"route": r, "trace": trace, "answer": _reply(
                f"{names} is not in your portfolio, so I can't share its details. Ask its owner, your "
                "manager or an admin if you need access.", "access")}
        if r["ambiguous"] and not r["accounts"]:
            a = r["ambiguous"][0]
            return {"route": r, "trace": trace, "answer": _reply(
                f"\u201c{a['text']}\u201d matches several accounts: {', '.join(a['candidates'])}. "
                "Which one do you mean?", "ambiguous")}
        needs_account = [i for i in r["intents"] if i in SPECIALISTS or i == "remember"]
        if needs_account and not r["accounts"] and "portfolio" not in r["intents"]:
            return {"route": r, "trace": trace, "answer": _reply(
                "Which account do you mean? Name it (\u201chow is Acme doing?\u201d), or ask about your "
                "portfolio (\u201cwhich of my renewals are at risk?\u201d).", "clarify")}
        upd: dict[str, Any] = {"route": r, "trace": trace}
        if r["accounts"]:
            upd["last_accounts"] = r["accounts"]
        return upd

    def dispatch(state: State) -> Any:
        if state.get("answer"):
            return "compose"
        r = state["route"]
        sends = []
        base = {"question": state["question"], "who": state.get("who", ""), "route": r}
        for intent in r["intents"]:
            if intent in SPECIALISTS:
                sends += [Send(intent, {**base, "account": a}) for a in r["accounts"][:3]]
            elif intent in ("portfolio", "remember", "help"):
                sends.append(Send(intent, base))
        return sends or [Send("help", base)]

    def specialist(name: str) -> Any:
        def node(payload: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
            deps = _deps(config, default_deps)
            t = time.perf_counter()
            ctx = deps.runtime.tool_context(payload["who"])
            try:
                f = SPECIALISTS[name](deps, ctx, payload["account"])
            except (AccessDenied, NotFoundError) as exc:
                f = Finding(name, payload["account"])
                f.fact(str(exc), kind="error")
            return {"findings": [plain(f)], "trace": [{"step": name, "account": payload["account"]["name"],
                                                      "seconds": round(time.perf_counter() - t, 4),
                                                      "facts": len(f["facts"])}]}
        node.__name__ = name
        return node

    def portfolio_node(payload: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        deps = _deps(config, default_deps)
        t = time.perf_counter()
        f = account_agent.portfolio(deps, deps.runtime.tool_context(payload["who"]), payload["route"],
                                    payload["question"])
        return {"findings": [plain(f)], "trace": [{"step": "portfolio", "seconds": round(time.perf_counter() - t, 4)}],
                "last_accounts": f["data"]["accounts"][:1] if f["data"]["count"] == 1 else []}

    def help_node(payload: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        f = Finding("help")
        f.fact(account_agent.HELP, kind="help")
        return {"findings": [dict(f)], "trace": [{"step": "help"}]}

    def remember_node(payload: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        accounts = payload["route"]["accounts"]
        text = re.sub(r"^\s*(please\s+)?(remember|note|keep in mind|fyi)\s*(that|:|,)?\s*", "",
                      payload["question"], flags=re.I).strip()
        acct = accounts[0]
        f = Finding("remember", acct)
        f.fact(f"To remember for {acct['name']}: \u201c{text}\u201d", kind="fact_draft")
        f["drafts"].append({"id": uuid.uuid4().hex, "kind": "fact", "account_id": acct["account_id"],
                            "account": acct["name"], "subject": f"Remember for {acct['name']}", "body": text})
        return {"findings": [dict(f)], "trace": [{"step": "remember"}]}

    def compose_node(state: State, config: RunnableConfig) -> dict[str, Any]:
        deps = _deps(config, default_deps)
        if state.get("answer"):
            return {"messages": [{"role": "assistant", "content": state["answer"]["text"]}]}
        t = time.perf_counter()
        findings = state.get("findings") or []
        intents = state["route"]["intents"]
        single = len([i for i in intents if i != "portfolio"]) <= 1
        used = len(deps.log.calls)
        over_time = time.perf_counter() - deps.started > deps.budget_s
        with deps.runtime.store.session() as s:
            names = list(s.scalars(select(Account.name).where(Account.lifecycle_stage != "churned")))
        ans = compose(deps, state["question"], findings, names,
                      calls_left=0 if over_time else (2 if single else 3) - used)
        ans = plain(ans)
        return {"answer": ans, "messages": [{"role": "assistant", "content": ans["text"]}],
                "trace": [{"step": "compose", "mode": ans["mode"], "note": ans.get("note", ""),
                           "seconds": round(time.perf_counter() - t, 4)}]}

    def after_compose(state: State) -> str:
        return "approve" if (state.get("answer") or {}).get("drafts") else END

    def approve_node(state: State, config: RunnableConfig) -> dict[str, Any]:
        deps = _deps(config, default_deps)
        done = []
        for d in state["answer"]["drafts"]:
            decision = interrupt({"draft": d, "options": ["approve", "edit", "skip"]})
            if isinstance(decision, str):
                decision = {"decision": decision}
            done.append(execute(deps, str(decision.get("who") or ""), d, decision))
        return {"actions": done, "trace": [{"step": "approve", "actions": done}]}

    g = StateGraph(State)
    g.add_node("start", start)
    g.add_node("route", route_node)
    for name in SPECIALISTS:
        g.add_node(name, specialist(name))  # type: ignore[call-overload,arg-type]
    g.add_node("portfolio", portfolio_node)  # type: ignore[call-overload,arg-type]
    g.add_node("help", help_node)  # type: ignore[call-overload,arg-type]
    g.add_node("remember", remember_node)  # type: ignore[call-overload,arg-type]
    g.add_node("compose", compose_node)
    g.add_node("approve", approve_node)
    g.add_edge(START, "start")
    g.add_conditional_edges("start", lambda s: "compose" if s.get("answer") else "route", ["compose", "route"])
    g.add_conditional_edges("route", dispatch, [*SPECIALISTS, "portfolio", "help", "remember", "compose", END])
    for name in [*SPECIALISTS, "portfolio", "help", "remember"]:
        g.add_edge(name, "compose")
    g.add_conditional_edges("compose", after_compose, ["approve", END])
    g.add_edge("approve", END)
    return g.compile(checkpointer=checkpointer)


def _reply(text: str, kind: str) -> dict[str, Any]:
    return {"text": text, "mode": kind, "sources": [], "drafts": [], "unsupported": [], "note": ""}


def execute(deps: Deps, who: str, draft: dict[str, Any], decision: Any) -> dict[str, Any]:
    """Run an approved draft exactly once (keyed by its id); a skip is recorded too.

    `who` is the person deciding. Only the account's owner, their manager or an admin may decide
    (checked here too, not only by the caller); anyone else changes nothing.
    """
    if isinstance(decision, str):
        decision = {"decision": decision}
    choice = str(decision.get("decision", "skip")).lower()
    if choice not in ("approve", "edit", "skip"):
        choice = "skip"
    text = (decision.get("text") or draft.get("body") or "").strip()
    store = deps.runtime.store
    try:
        viewer = deps.runtime.viewer(who)
    except NotFoundError:
        viewer = None
    if viewer is None or not access.may_decide(store, viewer, draft["account_id"]):
        return {"draft_id": draft["id"], "kind": draft["kind"], "decision": "refused", "already_done": False}
    by = viewer.name
    with store.session() as s:
        prior = s.get(ActionLog, draft["id"])
        if prior is not None:
            return {"draft_id": draft["id"], "kind": draft["kind"], "decision": prior.decision,
                    "already_done": True, **prior.result}
        result: dict[str, Any] = {}
        if choice in ("approve", "edit"):
            name = s.scalar(select(Account.name).where(Account.id == draft["account_id"])) or ""
            access.check(store, viewer, draft["account_id"], name)
            if draft["kind"] == "fact":
                fact = RememberedFact(account_id=draft["account_id"], text=text, said_by=by,
                                      said_at=datetime.now().replace(microsecond=0), origin=decision.get("origin", ""))
                s.add(fact)
                s.flush()
                result = {"fact_id": fact.id, "text": text}
            elif draft["kind"] == "follow_up":
                author = s.scalar(select(CSM.name).join(Account, Account.owner_id == CSM.id)
                                  .where(Account.id == draft["account_id"])) or by
                act = Activity(account_id=draft["account_id"], kind="email", occurred_on=deps.runtime.settings.as_of(),
                               author=author, subject=draft["subject"], body=f"To: {draft.get('to', '')}\n\n{text}")
                s.add(act)
                s.flush()
                result = {"activity_id": act.id, "to": draft.get("to", "")}
        s.add(ActionLog(draft_id=draft["id"], kind=draft["kind"], decision="skip" if choice == "skip" else "approve",
                        decided_by=by, decided_at=datetime.now(), result=result))
        try:
            s.commit()
        except IntegrityError:  # the same draft decided concurrently: the first one won
            s.rollback()
            prior = s.get(ActionLog, draft["id"])
            return {"draft_id": draft["id"], "kind": draft["kind"], "already_done": True,
                    "decision": prior.decision if prior else choice, **(prior.result if prior else {})}
    if draft["kind"] == "follow_up":
        result |= _after_follow_up(deps, draft, choice, text)
    if draft["kind"] == "fact" and choice != "skip" and deps.memory is not None:
        try:
            from integrations.memory import fact_docs

            deps.memory._sync("facts", fact_docs(store), None)
        except Exception:  # noqa: BLE001 - the fact is in the CRM; `retain memory sync` catches up
            result["memory"] = "pending sync"
    return {"draft_id": draft["id"], "kind": draft["kind"], "decision": "skip" if choice == "skip" else "approve",
            "already_done": False, **result}


def _after_follow_up(deps: Deps, draft: dict[str, Any], choice: str, text: str) -> dict[str, Any]:
    """Approved: send it through the configured channel (Slack Connect, else the email outbox). Skipped: snooze."""
    from datetime import timedelta

    from integrations.crm.models import FollowUpState
    from integrations.scheduler import enqueue, load_schedules

    store = deps.runtime.store
    if choice == "skip":
        days = float(load_schedules()["onboarding_sweep"]["snooze_days"])
        with store.session() as s:
            row = s.get(FollowUpState, draft["milestone_id"]) or FollowUpState(
                milestone_id=draft["milestone_id"], state="", nagged_at=datetime.now(), thread="")
            row.snoozed_until = datetime.now() + timedelta(days=days)
            s.merge(row)
            s.commit()
        return {"snoozed_days": days}
    from integrations.slack.app import load_slack_config

    cfg = load_slack_config(deps.runtime.settings.slack.config_file)
    channel = (cfg.customer_channels or {}).get(draft["account"])
    if channel:
        key, _ = enqueue(store, "followup", draft["id"], draft["account"], channel, text)
        return {"sent_via": "slack_connect", "outbox": key}
    from integrations import mail

    try:
        raw = mail.build(draft.get("to", ""), draft.get("to_email", ""), draft["subject"], text,
                         link_hosts=cfg.link_hosts)
    except mail.BadAddress as exc:
        return {"sent_via": "none", "error": str(exc)}
    box = deps.runtime.settings.data_dir / "email_outbox"
    box.mkdir(parents=True, exist_ok=True)
    path = box / f"{draft['id']}.eml"
    if not path.exists():  # one file per draft: the mail hook sends each once
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(raw)
        tmp.replace(path)
    return {"sent_via": "email_outbox", "file": str(path)}


class Assistant:
    """The graph with its checkpoints, for the CLI, Slack and tests."""

    def __init__(self, runtime: Runtime, chat: ChatModel | None = None, checkpointer: Any = None,
                 use_memory: bool = True, budget_s: float = 90.0):
        self.runtime, self.chat, self.use_memory, self.budget_s = runtime, chat, use_memory, budget_s
        if checkpointer is None:
            from langgraph.checkpoint.sqlite import SqliteSaver

            runtime.settings.data_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(runtime.settings.data_dir / "checkpoints.sqlite"), check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            checkpointer = SqliteSaver(conn)
        self.checkpointer = checkpointer
        self.graph = build_graph(checkpointer=checkpointer)

    def _deps(self) -> Deps:
        log = CallLog()
        chat = _Counted(self.chat, log) if self.chat is not None else None
        d = Deps(runtime=self.runtime, chat=chat, log=log, use_memory=self.use_memory, budget_s=self.budget_s)
        return d

    def _config(self, thread: str, deps: Deps) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread, "deps": deps}, "recursion_limit": RECURSION_LIMIT}

    def ask(self, question: str, who: str = "", thread: str = "cli") -> dict[str, Any]:
        """Answer one message in a thread; the reply, its sources, pending approvals and what it cost."""
        deps = self._deps()
        t = time.perf_counter()
        self.runtime.viewer(who)  # an unknown person gets one clear error before anything runs
        out = self.graph.invoke({"question": question, "who": who}, self._config(thread, deps))
        return self._result(out, deps, time.perf_counter() - t)

    def decide(self, thread: str, decision: str, who: str = "", text: str | None = None) -> dict[str, Any]:
        """Approve, edit or skip the draft the thread is paused on, as `who`.

        Only the draft's account owner, their manager or an admin may (AccessDenied otherwise, and
        nothing changes); the decision is recorded under the decider's name.
        """
        deps = self._deps()
        cfg = self._config(thread, deps)
        decider = self.runtime.viewer(who)  # no identity or an unknown one: NotFoundError, nothing runs
        draft = self.pending_draft(thread)
        if draft is None:
            return {"actions": [], "pending": [], "note": "Nothing is waiting for approval in this thread."}
        if not access.may_decide(self.runtime.store, decider, draft["account_id"]):
            raise AccessDenied(access.DECIDE_REFUSAL)
        t = time.perf_counter()
        out = self.graph.invoke(Command(resume={"decision": decision, "text": text, "who": who}), cfg)
        return self._result(out, deps, time.perf_counter() - t)

    def pending_draft(self, thread: str) -> dict[str, Any] | None:
        """The draft a thread is paused on, if any."""
        snap = self.graph.get_state({"configurable": {"thread_id": thread}})
        for it in snap.interrupts:
            return dict(it.value["draft"])
        return None

    def may_decide(self, thread: str, who: str) -> bool:
        """Whether `who` may approve, edit or skip the draft this thread is paused on (False if none)."""
        draft = self.pending_draft(thread)
        try:
            decider = self.runtime.viewer(who)
        except NotFoundError:
            return False
        return draft is not None and access.may_decide(self.runtime.store, decider, draft["account_id"])

    def _result(self, out: dict[str, Any], deps: Deps, seconds: float) -> dict[str, Any]:
        pending = [i.value["draft"] for i in out.get("__interrupt__", [])]
        return {"answer": out.get("answer") or {}, "route": out.get("route") or {},
                "findings": out.get("findings") or [], "trace": out.get("trace") or [],
                "actions": out.get("actions") or [], "pending": pending,
                "llm": {**deps.log.totals(), "calls_detail": deps.log.as_list()}, "seconds": round(seconds, 3)}


def build_assistant(runtime: Runtime, deterministic: bool = False,
                    warn: Any = None) -> Assistant:
    """The assistant with the configured chat model; without one (or with its file missing), deterministic."""
    from integrations.llm import make_chat_model
    from integrations.models import ModelMissing

    chat = None
    if not deterministic:
        try:
            chat = make_chat_model(runtime.settings)
        except ModelMissing as exc:
            if warn:
                warn(f"{exc} Answering from the verified findings without an LLM.")
    return Assistant(runtime, chat=chat)


def make_graph(config: Any = None) -> Any:
    """The graph for `langgraph dev` / LangGraph Studio, with dependencies from the settings."""
    from integrations.llm import make_chat_model
    from retain.settings import load_settings

    runtime = Runtime(load_settings())
    try:
        chat = make_chat_model(runtime.settings)
    except RetainError:
        chat = None
    return build_graph(Deps(runtime=runtime, chat=chat))
