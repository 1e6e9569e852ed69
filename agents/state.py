"""The graph's state and the structured findings agents return (all JSON-serialisable)."""

from __future__ import annotations

import operator
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from integrations.llm import CallLog, ChatModel
from retain.runtime import Runtime

MAX_INPUT_CHARS = 4000
INTENTS = ("needs", "onboarding", "tuning", "renewal", "health", "portfolio", "remember", "help")
AGENT_INTENTS = ("needs", "onboarding", "tuning", "renewal", "health")


def _acc(old: list[Any] | None, new: list[Any] | None) -> list[Any]:
    """Accumulate within a turn; None (sent by the first node of a turn) starts afresh."""
    if new is None:
        return []
    return (old or []) + new


class State(TypedDict, total=False):
    """One conversation thread. `findings` and `trace` accumulate within a turn (reset by `start`)."""

    question: str
    who: str
    messages: Annotated[list[dict[str, str]], operator.add]
    route: dict[str, Any]
    findings: Annotated[list[dict[str, Any]], _acc]
    trace: Annotated[list[dict[str, Any]], _acc]
    answer: dict[str, Any]
    last_accounts: list[dict[str, Any]]
    actions: list[dict[str, Any]]


def plain(obj: Any) -> Any:
    """JSON-clean copy (numpy numbers become Python numbers), so checkpoints can store it."""
    import json

    def default(o: Any) -> Any:
        if hasattr(o, "item"):
            return o.item()
        return str(o)

    return json.loads(json.dumps(obj, default=default))


class Finding(dict):  # type: ignore[type-arg]
    """What one agent found about one account: facts and recommendations citing their sources."""

    def __init__(self, agent: str, account: dict[str, Any] | None = None):
        super().__init__(agent=agent, account_id=(account or {}).get("account_id"),
                         account=(account or {}).get("name"), facts=[], recommendations=[],
                         drafts=[], sources=[], data={})

    def source(self, s: dict[str, Any]) -> int:
        """Add a source (deduplicated); its index within this finding."""
        key = (s.get("type"), str(s.get("id")))
        for i, have in enumerate(self["sources"]):
            if (have.get("type"), str(have.get("id"))) == key:
                return i
        self["sources"].append({k: str(v) if v is not None else "" for k, v in s.items()})
        return len(self["sources"]) - 1

    def fact(self, text: str, *sources: dict[str, Any], kind: str = "") -> None:
        """A fact, with the records it came from."""
        self["facts"].append({"text": text, "src": [self.source(s) for s in sources], "kind": kind})

    def recommend(self, text: str, *sources: dict[str, Any]) -> None:
        """A recommendation, citing a playbook or record where there is one."""
        self["recommendations"].append({"text": text, "src": [self.source(s) for s in sources]})


@dataclass
class Deps:
    """What the nodes need and never checkpoint: the runtime, the chat model, the call log."""

    runtime: Runtime
    chat: ChatModel | None = None
    log: CallLog = field(default_factory=CallLog)
    use_memory: bool = True
    budget_s: float = 90.0
    started: float = field(default_factory=time.perf_counter)

    @property
    def memory(self) -> Any:
        """The Chroma memory, or None when the embedding model is not available."""
        if not self.use_memory:
            return None
        try:
            return self.runtime.memory
        except Exception:  # noqa: BLE001 - memory is optional; agents fall back to SQL
            self.use_memory = False
            return None
