"""Block Kit for Retain's replies: answers with sources, approvals, account cards, App Home."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from core import figures
from integrations.slack.safe import MAX_BLOCKS, SECTION_LIMIT, clean, cut


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, SECTION_LIMIT)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, 2000)}]}


def placeholder(what: str) -> list[dict[str, Any]]:
    """The message posted at once, replaced by the answer."""
    return [_context(f":hourglass_flowing_sand: {clean(what)}")]


def answer(result: Mapping[str, Any], link_hosts: list[str],
           feedback_ref: str = "") -> tuple[str, list[dict[str, Any]]]:
    """An answer: its text in sections (split on lines), a context block listing its sources, feedback buttons."""
    ans = result["answer"]
    text = clean(ans.get("text", ""), link_hosts)
    blocks: list[dict[str, Any]] = []
    chunk = ""
    for line in text.split("\n"):
        if len(chunk) + len(line) + 1 > SECTION_LIMIT and chunk:
            blocks.append(_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(_section(chunk))
    tab = next((f["data"]["table"] for f in result.get("findings") or []
                if (f.get("data") or {}).get("table", {}).get("rows")), None)
    if tab is not None:
        blocks.append(table(tab["columns"], tab["rows"], link_hosts))
    if ans.get("mode") == "deterministic":
        blocks.append(_context("_Verified findings from the CRM (no LLM prose)._"))
    sources = ans.get("sources") or []
    if sources:
        items = [f"[{s['n']}] {clean(s.get('type', '').replace('_', ' '))} · {clean(s.get('label', ''))}"
                 + (f" · {s['date']}" if s.get("date") else "") for s in sources]
        for k in range(0, len(items), 10):  # context blocks take up to 10 elements
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": cut(i, 300)}
                                                           for i in items[k:k + 10]]})
    if len(blocks) > MAX_BLOCKS - 1:
        blocks = blocks[: MAX_BLOCKS - 2] + [_context(f"… {len(blocks) - MAX_BLOCKS + 2} more blocks cut.")]
    if feedback_ref:
        blocks.append(feedback(feedback_ref))
    return cut(text, 3900) or "Retain", blocks


FEEDBACK_ACTION = "retain_feedback"


def feedback(ref: str) -> dict[str, Any]:
    """Slack's feedback buttons (a context_actions block); each value carries what they rate (`ref`)."""
    return {"type": "context_actions", "elements": [{
        "type": "feedback_buttons", "action_id": FEEDBACK_ACTION,
        "positive_button": {"text": {"type": "plain_text", "text": "👍"}, "value": cut(f"good|{ref}", 2000),
                            "accessibility_label": "This was useful"},
        "negative_button": {"text": {"type": "plain_text", "text": "👎"}, "value": cut(f"bad|{ref}", 2000),
                            "accessibility_label": "This was wrong or not useful"}}]}


TABLE_ROWS = 100  # Slack's limit per table block (header included)
TABLE_CELLS = 20


def table(columns: list[str], rows: list[list[str]], link_hosts: list[str]) -> dict[str, Any]:
    """A Block Kit table block: a header row, then up to 99 rows of raw text cells, each made safe."""
    def cell(v: Any) -> dict[str, str]:
        return {"type": "raw_text", "text": cut(clean(str(v), link_hosts), 200) or " "}
    body = [[cell(c) for c in columns[:TABLE_CELLS]]] + [[cell(c) for c in r[:TABLE_CELLS]]
                                                          for r in rows[:TABLE_ROWS - 1]]
    return {"type": "table", "rows": body, "column_settings": [{"is_wrapped": True}]}


def approval(draft: Mapping[str, Any], thread: str) -> tuple[str, list[dict[str, Any]]]:
    """A draft with Approve / Edit / Skip buttons; the buttons carry the thread to resume."""
    value = json.dumps({"thread": thread, "draft": draft["id"]})
    to = f"To: {clean(draft['to'])}\n" if draft.get("to") else ""
    text = f"*Draft: {clean(draft['subject'])}*\n{to}{clean(draft['body'])}"
    facts = [_context("\n".join(f"• {clean(f)}" for f in draft["facts"]))] if draft.get("facts") else []
    if draft.get("invite"):
        facts.append(_context("Calendar invite (.ics) attached to the e-mail on approval."))
    blocks = [_section(text), *facts, {"type": "actions", "block_id": "retain_approval", "elements": [
        {"type": "button", "action_id": "retain_approve", "style": "primary", "value": value,
         "text": {"type": "plain_text", "text": "Approve"}},
        {"type": "button", "action_id": "retain_edit", "value": value, "text": {"type": "plain_text", "text": "Edit"}},
        {"type": "button", "action_id": "retain_skip", "value": value, "text": {"type": "plain_text", "text": "Skip"}},
    ]}]
    return cut(f"Draft for approval: {draft['subject']}", 3900), blocks


DECK_ACTION = "retain_qbr_deck"


def deck_button(account_id: int, name: str) -> dict[str, Any]:
    """A button under a QBR prep answer that makes the account's deck (who clicks is checked when it runs)."""
    return {"type": "actions", "block_id": "retain_qbr", "elements": [
        {"type": "button", "action_id": DECK_ACTION, "value": json.dumps({"account_id": int(account_id)}),
         "text": {"type": "plain_text", "text": cut(f"Make the QBR deck for {name}", 75)}}]}


def decided(draft_text: str, decider: str, action: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The approval message after the decision: the draft, and what happened (no buttons)."""
    if action.get("decision") == "skip":
        what = f"Skipped by {clean(decider)}."
    elif action.get("due"):
        what = f"Approved by {clean(decider)}: reminder set for {clean(str(action['due']))}."
    else:
        ref = action.get("activity_id") or action.get("fact_id")
        kind = "CRM activity" if action.get("activity_id") else "remembered fact"
        what = f"Approved by {clean(decider)}: recorded as {kind} {ref}."
    if action.get("error"):
        what += f" Not sent: {clean(str(action['error']))}"
    return [_section(cut(draft_text, SECTION_LIMIT)), _context(what)]


def edit_modal(draft_body: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The Edit modal: the draft text, editable."""
    return {"type": "modal", "callback_id": "retain_edit_submit", "private_metadata": json.dumps(meta),
            "title": {"type": "plain_text", "text": "Edit draft"},
            "submit": {"type": "plain_text", "text": "Approve"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [{"type": "input", "block_id": "body", "label": {"type": "plain_text", "text": "Text"},
                        "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                                    "initial_value": cut(draft_body, 3000)}}]}


def home(name: str, at_risk: Sequence[Mapping[str, Any]], renewals: Sequence[Mapping[str, Any]],
         overdue: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """App Home: the CSM's portfolio at a glance."""
    def rows(items: Sequence[Mapping[str, Any]], fmt: Any, empty: str) -> str:
        return "\n".join(fmt(i) for i in items[:10]) or empty

    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": cut(f"Portfolio: {name}", 150)}},
        _section("*At risk*\n" + rows(at_risk, lambda r: f"• {clean(r['name'])}: health {figures.score(r['score'])} "
                                      f"({r['band']}), {clean(r['segment_reason'])}", "None right now.")),
        _section("*Renewals in the next 90 days*\n" + rows(
            renewals, lambda r: f"• {clean(r['name'])}: {r['renewal_date']} ({int(r['days_to_renewal'])} days), "
            f"ARR ${r['arr']:,.0f}" + (f", P(renew) {r['p_renew']:.2f}" if r.get("p_renew") is not None else ""),
            "None.")),
        _section("*Overdue onboarding milestones*\n" + rows(
            overdue, lambda m: f"• {clean(m['account'])}: {clean(m['name'])} due {m['due']} "
            f"({m['days_overdue']} days overdue)", "None.")),
        _context("Ask me anything in a DM, or use `/retain help`."),
    ]
    return {"type": "home", "blocks": blocks}


def card(ov: Mapping[str, Any], h: Mapping[str, Any], rn: Mapping[str, Any], ob: Mapping[str, Any],
         tickets: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """An account card: health, band, trend, drivers, renewal, ARR, P(renew), onboarding, open tickets."""
    trend = "" if h["trend"] is None else f" ({h['trend']:+.1f} vs 30 days ago)"
    fields = [
        f"*Health*\n{figures.score(h['score'])} {h['band']}{trend}",
        f"*Renewal*\n{rn['renewal_date'] or 'n/a'}" + (f" ({int(rn['days_to_renewal'])} days)"
                                                        if rn["days_to_renewal"] is not None else ""),
        f"*ARR*\n${rn['arr']:,.0f}",
        "*P(renew)*\n" + (f"{rn['p_renew']:.2f}" if rn["p_renew"] is not None else "n/a"),
        "*Onboarding*\n" + (f"{ob['progress'] * 100:.0f}% · {len(ob['overdue'])} overdue" if ob.get("plan")
                            else "no plan"),
        f"*Open tickets*\n{len(tickets['tickets'])}",
    ]
    drivers = "\n".join(f"• {clean(d['text'])}" for d in h["drivers"]) or "• none"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": cut(ov["name"], 150)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
        _section(f"*Top drivers*\n{drivers}"),
        _context(f"Owner {clean(ov['owner'] or '')} · {clean(rn['segment'])}: {clean(rn['segment_reason'])}"),
    ]
    return f"{ov['name']}: health {figures.score(h['score'])} ({h['band']})", blocks
