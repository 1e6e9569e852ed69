"""The verifier's recent verdicts on each chat model's prose, kept in the data folder.

One small JSON file (`prose_verdicts.json`) holds, per model name, the last verdicts (True: the
prose verified; False: the verifier rejected it) and how many answers went out without prose since
the gate closed. Several processes (Slack workers, the CLI) share it: each change is read, edited
and replaced under an exclusive lock on a lock file, and written atomically, so a reader never sees
half a file. A missing or unreadable file is an empty history, never an error.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE = "prose_verdicts.json"


@dataclass
class Recent:
    """A model's recent prose verdicts."""

    rejected: int
    judged: int
    skipped: int  # answers sent without prose since the gate closed

    def line(self) -> str:
        """"the verifier rejected 48 of the last 50"."""
        return f"the verifier rejected {self.rejected} of the last {self.judged}"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / (FILE + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = _read(folder)
        yield data
        tmp = folder / f"{FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, folder / FILE)


def _read(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recent(folder: Path, model: str, window: int) -> Recent:
    """The model's last `window` verdicts."""
    entry = _read(folder).get(model) or {}
    last = [bool(v) for v in entry.get("verdicts", [])][-window:]
    return Recent(sum(not v for v in last), len(last), int(entry.get("skipped", 0)))


def record(folder: Path, model: str, verified: bool, window: int) -> None:
    """Add one verdict on the model's prose (the history keeps the last `window`)."""
    with _locked(folder) as data:
        entry = data.setdefault(model, {})
        entry["verdicts"] = ([bool(v) for v in entry.get("verdicts", [])] + [verified])[-window:]
        entry["skipped"] = 0


def skipped(folder: Path, model: str) -> int:
    """Count one answer sent without prose because the gate was closed; the count so far."""
    with _locked(folder) as data:
        entry = data.setdefault(model, {})
        entry["skipped"] = int(entry.get("skipped", 0)) + 1
        return int(entry["skipped"])
