"""What renewals did to ARR, stated per renewal and in total, each figure cited.

A renewal's lost ARR is its contract value before minus after (all of it for a churn); its gained ARR is
after minus before. Totals add those per-renewal figures, so an expansion never hides a loss, and the
account's ARR today is never read as what was lost.
"""

from __future__ import annotations

from typing import Any

from agents.state import Finding


def _money(v: float) -> str:
    return f"${v:,.0f}"


def _change(r: dict[str, Any]) -> float | None:
    before, after = r.get("arr_before"), r.get("arr_after")
    if before is None or after is None:
        return None
    return float(after) - float(before)


def state(f: Finding, head: str, rows: list[dict[str, Any]]) -> None:
    """The head line with ARR lost, gained and net over `rows` (every renewal asked about), then each renewal."""
    changes = [(r, _change(r)) for r in rows]
    lost = [(r, -c) for r, c in changes if c is not None and c < 0]
    gained = [(r, c) for r, c in changes if c is not None and c > 0]
    total_lost, total_gained = sum(x for _, x in lost), sum(x for _, x in gained)
    parts = [f"ARR lost {_money(total_lost)} on {len(lost)} that churned or shrank (ARR before minus after; a churn "
             "loses all of it)"] if lost or not gained else []
    if gained:
        parts.append(f"ARR gained {_money(total_gained)} on {len(gained)} that grew (ARR after minus before)")
    if gained and lost:
        net = total_gained - total_lost
        parts.append(f"net ARR change {'-' if net < 0 else '+'}{_money(abs(net))}")
    cited = [r["source"] for r, _ in lost or gained][:10] or [r["source"] for r in rows[:10]]
    f.fact(f"{head}: " + "; ".join(parts), *cited, kind="aggregate")
    for r, c in changes[:25]:
        outcome = r.get("outcome") or "renewed"
        when = f" on {r['renewal_date']}" if r.get("renewal_date") else ""
        move = "" if c is None else f", lost {_money(-c)}" if c < 0 else f", gained {_money(c)}" if c > 0 else \
            ", no change"
        before = "n/a" if r.get("arr_before") is None else _money(float(r["arr_before"]))
        after = "n/a" if r.get("arr_after") is None else _money(float(r["arr_after"]))
        f.fact(f"{r['account']}: {outcome}{when}, ARR {before} before, {after} after{move}", r["source"], kind="row")


def one(f: Finding, name: str, rows: list[dict[str, Any]], latest: bool) -> None:
    """One renewal's ARR change ("how much did that one grow by?"): after minus before, and as a share of before."""
    for r in rows:
        c = _change(r)
        which = "its latest renewal" if latest else "the renewal"
        if c is None:
            f.fact(f"{name}: {which} on {r.get('renewal_date')} has no ARR before or after on record", r["source"],
                   kind="lookup")
            continue
        before = float(r["arr_before"])
        pct = f" ({'+' if c >= 0 else '-'}{abs(c) / before * 100:.1f}%)" if before else ""
        move = f"grew by {_money(c)}" if c > 0 else f"shrank by {_money(-c)}" if c < 0 else "did not change"
        f.fact(f"{name}: {which} on {r.get('renewal_date')} ({r.get('outcome') or 'renewed'}) {move}{pct}, from "
               f"{_money(before)} to {_money(float(r['arr_after']))} ARR (after minus before)", r["source"],
               kind="lookup")
    if not rows:
        f.fact(f"{name} has no renewal on record, so no ARR change to state", kind="lookup")
