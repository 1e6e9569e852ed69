"""What the graph's nodes need and never checkpoint (`Deps`, the graph's `context`), and the one factory for it.

A `Deps` belongs to one request: it holds that request's call log, its clock (for the answer's time
budget) and one tool context per asker, so every caller builds a fresh one with `request_deps`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from langchain_core.language_models.chat_models import BaseChatModel

from agents.drafts import ActionResult, Draft
from integrations.llm import CallLog
from tools.access import Asker
from tools.crm import ToolContext
from tools.services import Services

if TYPE_CHECKING:  # chromadb is slow to import: only when memory is used
    from integrations.memory import Memory


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
    """What the nodes need and never checkpoint (the graph's `context`); build one per request with `request_deps`."""

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


def request_deps(services: Services, chat: BaseChatModel | None = None, *, use_memory: bool = True,
                 budget_s: float = 90.0, actions: Actions | None = None, asker: Asker | None = None) -> Deps:
    """The dependencies of one request: a fresh call log, clock and per-asker tool contexts.

    The one way callers build `Deps` (the CLI, Slack, MCP, the jobs, LangGraph Studio), so a new
    dependency is added here once; `actions` defaults to sending nothing.
    """
    return Deps(services=services, chat=chat, log=CallLog(), use_memory=use_memory, budget_s=budget_s,
                actions=actions or NoActions(), started=time.perf_counter(), asker=asker)
