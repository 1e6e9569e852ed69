"""Qualitative risk in an agent's finding: each signal cited, and a verdict that says when one stands unanswered.

The renewal and health agents call `signals` for their account and `add` the result to their finding.
An account with a signal of the last 60 days that no CSM has answered gets an "At risk" verdict naming
it; such a finding carries `data["unanswered_risk"]`, which keeps any reassuring verdict ("on track")
out of the answer (the renewal agent's recommendation and the composer's check of LLM prose).
"""

from __future__ import annotations

from datetime import date

from agents.context import Deps
from agents.state import Finding
from tools import crm, risk_signals
from tools.risk_signals import RecordRef, RiskSignal, RiskSignals

SHOWN = 5  # signals listed per account (the latest per kind, newest first)
PRESSURE = {"competitor", "budget", "review", "cancel"}  # what the competitive/budget save play answers


def _embedder(deps: Deps) -> risk_signals.Embed | None:
    """The embedding model (with the memory's vector cache) when it is here, else None (patterns alone).

    Only vectors are needed, so Chroma is not opened (nor imported) for them.
    """
    if not deps.use_memory:
        return None
    try:
        return deps.services.embedder
    except Exception:  # noqa: BLE001 - the embedding only adds to the patterns; they stand without it
        return None


def signals(deps: Deps, ctx: crm.ToolContext, account_id: int) -> RiskSignals:
    """The account's risk signals (tools.risk_signals), with the embedding model's help when it is here."""
    embed = _embedder(deps)
    if embed is not None:
        try:
            return risk_signals.risk_signals(ctx, account_id, embed)
        except Exception:  # noqa: BLE001 - the embedding only adds to the patterns; they stand without it
            pass
    return risk_signals.risk_signals(ctx, account_id)


def book(deps: Deps, ctx: crm.ToolContext, f: Finding, accounts: dict[int, str], start: date, end: date,
         whose: str) -> None:
    """The risk signals of these accounts' records dated `start` to `end`, per account with each one cited."""
    embed = _embedder(deps)
    try:
        found = risk_signals.book_signals(ctx, list(accounts), start, end, embed)
    except Exception:  # noqa: BLE001 - the embedding only adds to the patterns; they stand without it
        found = risk_signals.book_signals(ctx, list(accounts), start, end)
    n = sum(len(a["signals"]) for a in found)
    if not found:
        f.fact(f"No risk signals (a competitor or another vendor's pilot, budget cuts, a reorg or layoffs, a "
               f"disengaged or departed champion, a procurement or security review, a request to cancel or "
               f"downgrade, a project on hold, an unhappy customer) in the "
               f"notes, tickets and survey comments of {whose} ({len(accounts)} accounts) from {start.isoformat()} "
               f"to {end.isoformat()}", kind="risk_verdict")
        return
    f.fact(f"{len(found)} of {len(accounts)} accounts ({whose}) carry {n} risk signal{'s' if n != 1 else ''} "
           f"dated {start.isoformat()} to {end.isoformat()}",
           *[_cite(a["signals"][0]["source"]) for a in found[:10]], kind="risk_verdict")
    for a in found:
        for s in a["signals"][:SHOWN]:
            cites = [_cite(s["source"])] + ([_cite(s["answered_by"])] if s["answered_by"] else [])
            f.fact(f"{accounts[a['account_id']]}: {line(s)}", *cites, kind="risk_signal")
    f.data["accounts"] = [{"account_id": a["account_id"], "name": accounts[a["account_id"]]} for a in found]


def _cite(ref: RecordRef) -> crm.Source:
    return crm.src(ref["type"], ref["id"], ref["date"], ref["label"])


def verdict(found: RiskSignals) -> str | None:
    """One line naming the unanswered signals of the window, or None when there are none."""
    open_ = found["unanswered"]
    if not open_:
        return None
    what = "; ".join(f"{s['label']} on {s['date']}" for s in open_[:SHOWN])
    n = len(open_)
    return (f"At risk: {n} signal{'s' if n != 1 else ''} from the last {found['window_days']} days "
            f"{'stand' if n != 1 else 'stands'} unanswered ({what}); no CSM conversation with the account since")


def line(s: RiskSignal) -> str:
    """A signal as a fact: its kind, whether it was answered, the sentence quoted, the record and day."""
    state = "unanswered" if s["unanswered"] or s["answered_by"] is None else \
        f"followed up on {s['answered_by']['date']}"
    more = f"; {s['earlier']} earlier in the window" if s["earlier"] else ""
    return (f"Risk signal ({s['label']}, {state}): \u201c{s['quote']}\u201d "
            f"({s['source']['label']}, {s['date']}{more})")


def add(f: Finding, found: RiskSignals, with_verdict: bool = True) -> None:
    """The signals as facts citing their records, led by the verdict when one stands unanswered."""
    head = verdict(found) if with_verdict else None
    if head:
        refs = {(s["source"]["type"], s["source"]["id"]): s["source"] for s in found["unanswered"][:SHOWN]}
        f.fact(head, *[_cite(r) for r in refs.values()], kind="risk_verdict")
    for s in found["signals"][:SHOWN]:
        cites = [_cite(s["source"])] + ([_cite(s["answered_by"])] if s["answered_by"] else [])
        f.fact(line(s), *cites, kind="risk_signal")
    f.data["unanswered_risk"] = [s["kind"] for s in found["unanswered"]]


def play(found: RiskSignals) -> str | None:
    """The save play the window's signals call for, or None (then, and only then, a renewal may be on track).

    A signal a CSM followed up on still counts: a call after "they're piloting another vendor" does not
    end the pilot, so the play must address it rather than say "on track" beside it.
    """
    kinds = {s["kind"] for s in found["signals"]}
    if kinds & PRESSURE:
        return "renewal.md#save-play-competitor-budget-or-downgrade"
    if "departed" in kinds:  # a note says the champion left, even before the contact record does
        return "renewal.md#save-play-champion-left"
    if "unhappy" in kinds:
        return "renewal.md#save-play-reliability-or-performance-complaints"
    if kinds:
        return "renewal.md#save-play-champion-gone-quiet-or-reorg"
    return None
