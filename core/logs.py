"""Logging: plain text for people or one JSON object per line, each with the event and thread it serves.

`context(event=..., slack_thread=..., kind=...)` sets the ids for the code that runs inside it (a
ContextVar, so worker threads each carry their own); every record logged there carries them.
In JSON, a record is always one line: a traceback travels inside it (`traceback`), and uncaught
exceptions (main thread, other threads) and warnings are logged records too, never raw text.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from core.errors import mask_secrets

_CONTEXT: ContextVar[dict[str, str]] = ContextVar("retain_log_context", default={})  # noqa: B039 - read-only default
FIELDS = ("event", "slack_thread", "kind")  # not "thread": LogRecord.thread is the OS thread id
EXTRA = ("seconds", "status", "attempt")  # passed with `extra=` by the lines that report a finished event


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
        for k in EXTRA:
            if hasattr(record, k):
                out[k] = getattr(record, k)
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = record.exc_info[0].__name__
            out["traceback"] = mask_secrets(self.formatException(record.exc_info))
        if record.stack_info:
            out["stack"] = mask_secrets(self.formatStack(record.stack_info))
        return json.dumps(out, ensure_ascii=False, default=str)


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
    logging.captureWarnings(True)
    sys.excepthook = _uncaught
    threading.excepthook = _uncaught_in_thread


def _uncaught(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logging.getLogger("retain").critical("uncaught %s", kind.__name__, exc_info=(kind, exc, tb))


def _uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("retain").error("uncaught %s in thread %s", args.exc_type.__name__, name,
                                      exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
