"""Prometheus metrics (prometheus-client), shared by every process of one `retain serve`.

`retain serve` answers in a second process; both write to PROMETHEUS_MULTIPROC_DIR (set by
`use_dir` before prometheus_client is first imported), and `/metrics` merges them. Elsewhere
(CLI, tests) the process's own registry is used. Nothing here is imported at start-up:
`metrics()` loads prometheus_client on first use.
"""

from __future__ import annotations

import atexit
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Metrics:
    """Every metric Retain exports."""

    events_received: Any
    events_answered: Any
    events_failed: Any
    answer_seconds: Any
    llm_calls: Any
    llm_tokens: Any
    llm_seconds: Any
    outbox_sent: Any
    outbox_dead: Any
    job_runs: Any
    mcp_calls: Any


_METRICS: Metrics | None = None
_LOCK = threading.Lock()  # the first requests arrive together: register the metrics once


def use_dir(path: Path) -> None:
    """Collect this process's and its children's metrics in `path` (emptied first); call before `metrics()`.

    The folder is removed when the process exits; folders beside it named after a process id that no
    longer runs (a server killed before its exit) are removed now.
    """
    for old in path.parent.glob("[0-9]*") if path.parent.is_dir() else ():
        if old != path and old.name.isdigit() and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(path)
    atexit.register(shutil.rmtree, path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (another user's counts)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def metrics() -> Metrics:
    """The metrics, created on first use."""
    global _METRICS
    if _METRICS is not None:
        return _METRICS
    with _LOCK:
        if _METRICS is not None:
            return _METRICS
        from prometheus_client import Counter, Histogram

        _METRICS = Metrics(
            events_received=Counter("retain_slack_events_received", "Slack events, commands and actions accepted",
                                    ["kind"]),
            events_answered=Counter("retain_slack_events_answered", "Inbox items run to completion", ["kind"]),
            events_failed=Counter("retain_slack_events_failed", "Inbox item attempts that failed", ["kind"]),
            answer_seconds=Histogram("retain_answer_seconds", "Seconds from claim to answer, per inbox item",
                                     ["kind"], buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)),
            llm_calls=Counter("retain_llm_calls", "Chat-model calls", ["purpose"]),
            llm_tokens=Counter("retain_llm_tokens", "Chat-model tokens", ["kind"]),
            llm_seconds=Counter("retain_llm_seconds", "Seconds spent in chat-model calls"),
            outbox_sent=Counter("retain_outbox_sent", "Scheduled messages delivered"),
            outbox_dead=Counter("retain_outbox_dead", "Scheduled messages given up after every retry"),
            job_runs=Counter("retain_job_runs", "Scheduled job runs", ["job", "status"]),
            mcp_calls=Counter("retain_mcp_calls", "MCP tool calls and resource reads", ["tool", "status"]),
        )
    return _METRICS


def render() -> bytes:
    """The exposition text: every process of this server when a multiprocess dir is set, else this one."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    metrics()
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
