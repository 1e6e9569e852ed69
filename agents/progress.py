"""What a caller watching a turn is told as it runs, in the work's terms, never the graph's node names.

`Assistant.ask(progress=...)` hands its callback a `Planned` once the message is understood (the
steps the work will take, in the person's words, from the agent catalogue) and a `Done` each time
agents finish (their verified findings, each naming the agent it came from, which `Task.agent` names
too). A caller such as Slack's status and streamed plan needs nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agents import specs
from agents.state import FindingDict, Route


@dataclass(frozen=True)
class Task:
    """One step of the work: an agent doing something, with an id fixed for the turn."""

    id: str
    agent: str
    title: str
    """What it is doing, in the person's words ("reading Globex's telemetry")."""


@dataclass(frozen=True)
class Planned:
    """The message was understood: the steps the answer will take (none for a help card or a refusal)."""

    tasks: tuple[Task, ...]

    @property
    def titles(self) -> list[str]:
        """What each step does, in order."""
        return [t.title for t in self.tasks]


@dataclass(frozen=True)
class Done:
    """Agents finished: their verified findings (code's facts and sources, never model text)."""

    findings: tuple[FindingDict, ...]

    @property
    def agents(self) -> set[str]:
        """The agents whose work this finished."""
        return {f["agent"] for f in self.findings}


Event = Planned | Done


def tasks(route: Route | Mapping[str, Any]) -> tuple[Task, ...]:
    """The steps a route's work will take (at most six)."""
    names = [a.get("name") or "" for a in route.get("accounts") or [] if a.get("name")]
    return tuple(Task(f"{agent}:{k}", agent, title)
                 for k, (agent, title) in enumerate(specs.doing(list(route.get("intents") or []), names)))


def event(node: str, update: Mapping[str, Any]) -> Event | None:
    """What one finished graph step means to a watcher, or None when it means nothing to them."""
    if node == "route" and update.get("route"):
        return Planned(tasks(update["route"]))
    found = tuple(f for f in update.get("findings") or [] if isinstance(f, Mapping) and f.get("agent"))
    return Done(found) if found else None  # type: ignore[arg-type]
