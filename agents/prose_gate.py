"""Prose off for a model the verifier keeps rejecting.

The verifier's verdicts on the configured model's prose are kept per model in the data folder (a
rolling window, `integrations.verdicts`): the composer's answers under the model's name, drafts under
"NAME (drafts)". Once nearly all recent prose was rejected, writing more costs seconds and changes
nothing, so answers and drafts go out as the verified findings (or the template), and say so. One in
`llm.prose_probe_every` still tries, so the gate opens again when the model does better.
"""

from __future__ import annotations

from agents.context import Deps
from core.settings import Settings
from integrations import verdicts
from integrations.llm import model_name


def key(model: str, kind: str = "answer") -> str:
    """Where a model's verdicts are kept: answers' prose under its name, drafts' under "NAME (drafts)"."""
    return model if kind == "answer" else f"{model} ({kind}s)"


def prose_off(deps: Deps, kind: str = "answer") -> str:
    """Why prose is off for the configured model ("prose off: the verifier rejected 48 of the last 50"), or "".

    `kind` "answer" is the composer's prose; "draft" a request's e-mail or message (a window of its own).
    """
    if deps.chat is None:
        return ""
    st = deps.services.settings
    llm = st.llm
    name = key(model_name(deps.chat), kind)
    if not state_line(st, name).startswith("prose off"):
        return ""
    r = verdicts.recent(st.data_dir, name, llm.prose_window)
    n = verdicts.skipped(st.data_dir, name)
    if llm.prose_probe_every and n % llm.prose_probe_every == 0:
        return ""  # this one tries: the window learns whether the model still fails
    return f"prose off: {r.line()}"


def state_line(settings: Settings, model: str) -> str:
    """"prose off: the verifier rejected 48 of the last 50" (or "prose on: ...") for a model."""
    llm = settings.llm
    r = verdicts.recent(settings.data_dir, model, llm.prose_window)
    if not r.judged:
        return "prose on: no drafts judged yet"
    off = r.judged >= llm.prose_min and r.rejected >= llm.prose_off_at * r.judged
    return f"prose {'off' if off else 'on'}: {r.line()}"


def verdict(deps: Deps, verified: bool, kind: str = "answer") -> None:
    """Remember the verifier's verdict on one answer's (or draft's) prose from the configured model."""
    if deps.chat is not None:
        st = deps.services.settings
        verdicts.record(st.data_dir, key(model_name(deps.chat), kind), verified, st.llm.prose_window)
