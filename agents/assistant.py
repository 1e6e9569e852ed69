"""The assistant: the graph with its checkpoints, as the CLI, Slack, the jobs and tests use it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypedDict, cast

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, Interrupt, Overwrite

from agents import progress as steps
from agents.context import Actions, Deps, NoActions, request_deps
from agents.graph import RECURSION_LIMIT, build_graph
from agents.state import ActionResult, Answer, Draft, FindingDict, Preset, Route, RouteStep, State, Step
from core.errors import AccessDenied, NotFoundError
from integrations.checkpoints import open_checkpointer
from integrations.llm import CallDict, CallTotals, ChatModel, as_langchain
from tools import access
from tools.access import Asker
from tools.services import Services


class LLMUse(CallTotals):
    """What one turn's model calls cost: totals, calls by kind, and each call."""

    by_kind: dict[str, int]
    calls_detail: list[CallDict]


class Result(TypedDict, total=False):
    """One turn's outcome: the answer, what the router and agents did, pending drafts, LLM cost."""

    answer: Answer
    route: Route
    findings: list[FindingDict]
    trace: list[Step | RouteStep]
    actions: list[ActionResult]
    pending: list[Draft]
    llm: LLMUse
    seconds: float
    note: str
    crash: bool  # the answer raised (`agents.evaluate.crashed`): `note` says what


def _written(update: Mapping[str, object] | None) -> dict[str, object]:
    """A node's update as the state took it: a value written with `Overwrite` (the turn's reset) unwrapped."""
    return {k: v.value if isinstance(v, Overwrite) else v for k, v in (update or {}).items()}


class Assistant:
    """The graph with its checkpoints, for the CLI, Slack and tests."""

    def __init__(self, services: Services, chat: ChatModel | BaseChatModel | None = None, checkpointer: Any = None,
                 use_memory: bool = True, budget_s: float = 90.0, actions: Actions | None = None):
        self.services, self.use_memory, self.budget_s = services, use_memory, budget_s
        self.chat: BaseChatModel | None = as_langchain(chat) if chat is not None else None
        self.actions: Actions = actions or NoActions()
        if checkpointer is None:
            st = services.settings
            checkpointer = open_checkpointer(st.data_dir, services.store, st.database.pool_size)
        self.checkpointer = checkpointer
        self.graph = build_graph(checkpointer=checkpointer)

    def _deps(self, asker: Asker) -> Deps:
        return request_deps(self.services, self.chat, use_memory=self.use_memory, budget_s=self.budget_s,
                            actions=self.actions, asker=asker)

    def _config(self, thread: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread}, "recursion_limit": RECURSION_LIMIT}

    def ask(self, question: str, who: Asker | str = "", thread: str = "cli", preset: Preset | None = None,
            progress: Callable[[steps.Event], None] | None = None) -> Result:
        """Answer one message in a thread; the reply, its sources, pending approvals and what it cost.

        `who` is the asker, resolved once by the caller (a string is resolved here, once; an unknown or
        empty identity gets one clear NotFoundError before anything runs). Every tool call of the turn
        acts for that asker. `preset` (intents and accounts) skips routing, for callers that decided
        in code what they want.
        `progress(event)` is told the planned steps once the message is understood and each agent's
        verified findings as they come (`agents.progress`), for a caller that shows work in progress
        (Slack's status and plan).
        """
        t = time.perf_counter()
        asker = self.services.asker(who)
        deps = self._deps(asker)
        cfg = self._config(thread)
        inp: State = {"question": question, "who": asker.key, "preset": preset}
        if progress is None:
            out = self.graph.invoke(inp, cfg, context=deps)
        else:
            interrupts: list[Interrupt] = []
            for chunk in self.graph.stream(inp, cfg, context=deps, stream_mode="updates"):
                for node, update in chunk.items():
                    if node == "__interrupt__":
                        interrupts.extend(update)
                    elif (ev := steps.event(node, _written(update))) is not None:
                        progress(ev)
            out = {**self.graph.get_state(cfg).values, "__interrupt__": interrupts}
        return self._result(out, deps, time.perf_counter() - t)

    def decide(self, thread: str, decision: str, who: Asker | str = "", text: str | None = None,
               draft_id: str | None = None, click: str = "") -> Result:
        """Approve, edit or skip the draft the thread is paused on, as `who`.

        Only the draft's account owner, their manager or an admin may (AccessDenied otherwise, and
        nothing changes); the decision is recorded under the decider's name. With `draft_id` (the
        draft a button showed), nothing happens unless that very draft is the one waiting. `click`
        (a Slack click's inbox key) is kept with the decision it makes.
        """
        cfg = self._config(thread)
        decider = self.services.asker(who)  # no identity or an unknown one: NotFoundError, nothing runs
        deps = self._deps(decider)
        draft = self.pending_draft(thread, draft_id)
        if draft is None:
            return {"actions": [], "pending": [], "note": "Nothing is waiting for approval in this thread."}
        if not access.may_decide(self.services.store, decider, draft["account_id"]):
            raise AccessDenied(access.DECIDE_REFUSAL)
        t = time.perf_counter()
        resume = {"decision": decision, "text": text, "who": decider.key, "click": click}
        out = self.graph.invoke(Command(resume=resume), cfg, context=deps)
        return self._result(out, deps, time.perf_counter() - t)

    def is_new(self, thread: str) -> bool:
        """Whether the thread has no turn yet (its first question names it)."""
        return not self.graph.get_state({"configurable": {"thread_id": thread}}).values

    def pending_draft(self, thread: str, draft_id: str | None = None) -> Draft | None:
        """The draft a thread is paused on, if any (and, given `draft_id`, only if it is that draft)."""
        snap = self.graph.get_state({"configurable": {"thread_id": thread}})
        for it in snap.interrupts:
            draft = Draft(**it.value["draft"])
            return draft if draft_id is None or draft["id"] == draft_id else None
        return None

    def proposed(self, thread: str, draft_id: str) -> Draft | None:
        """A draft the thread's latest answer proposed, decided or not (None once a later turn replaced it)."""
        answer = self.graph.get_state({"configurable": {"thread_id": thread}}).values.get("answer") or {}
        return next((Draft(**d) for d in answer.get("drafts") or [] if d.get("id") == draft_id), None)

    def may_decide(self, thread: str, who: Asker | str, draft_id: str | None = None) -> bool:
        """Whether `who` may approve, edit or skip the draft this thread is paused on (False if none)."""
        draft = self.pending_draft(thread, draft_id)
        try:
            decider = self.services.asker(who)
        except NotFoundError:
            return False
        return draft is not None and access.may_decide(self.services.store, decider, draft["account_id"])

    def _result(self, out: dict[str, Any], deps: Deps, seconds: float) -> Result:
        pending = [i.value["draft"] for i in out.get("__interrupt__", [])]
        answer = cast(Answer, {**(out.get("answer") or {}), "llm_calls": deps.log.by_kind()})
        return {"answer": answer, "route": cast(Route, out.get("route") or {}),
                "findings": out.get("findings") or [], "trace": out.get("trace") or [],
                "actions": out.get("actions") or [], "pending": pending,
                "llm": {**deps.log.totals(), "by_kind": deps.log.by_kind(),
                        "calls_detail": deps.log.as_list()}, "seconds": round(seconds, 3)}
