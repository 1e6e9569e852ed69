"""Logging: plain text for people or one JSON object per line, each with the event and thread it serves.

`context(event=..., slack_thread=..., kind=...)` sets the ids for the code that runs inside it (a
ContextVar, so worker threads each carry their own); every record logged there carries them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from core.errors import mask_secrets

_CONTEXT: ContextVar[dict[str, str]] = ContextVar("retain_log_context", default={})  # noqa: B039 - read-only default
FIELDS = ("event", "slack_thread", "kind")  # not "thread": LogRecord.thread is the OS thread id


@contextmanager
def context(**ids: Any) -> Iterator[None]:
    """Log records inside carry these ids (event, slack_thread, kind); None values are left out."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: str(v) for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class _WithContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ids = _CONTEXT.get()
        for k in FIELDS:
            setattr(record, k, ids.get(k, "-"))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids, and an exception's type."""

    def format(self, record: logging.LogRecord) -> str:  # noqa: D102 - logging.Formatter's
        out: dict[str, Any] = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                               "level": record.levelname, "logger": record.name,
                               "msg": mask_secrets(record.getMessage())}
        for k in FIELDS:
            v = getattr(record, k, "-")
            if v != "-":
                out["thread" if k == "slack_thread" else k] = v
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = record.exc_info[0].__name__
        return json.dumps(out, ensure_ascii=False)


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Set the root logger up once per process (text or json)."""
    handler = logging.StreamHandler()
    handler.addFilter(_WithContext())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [event=%(event)s "
                                               "thread=%(slack_thread)s] %(message)s"))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
