"""The asker is resolved once per event into an `Asker` and every tool call acts for it: a forged or unknown
identity gets nothing, an `Asker` that names nobody sees nothing, and a team channel's narrowing reaches every
path of an answer (the briefing's "what changed" too), because nothing re-reads an identity string."""

import json
import re

import pytest
from slack_http import DANA, MARCUS, approval_value, form, mention
from sqlalchemy import select

from agents.assistant import Assistant
from core.errors import AccessDenied, NotFoundError
from integrations.crm.models import CSM, Account
from tools import crm
from tools.access import OPERATOR, Asker

FORGED = ["", "   ", "#team=East", f"{DANA}#team=East", "!operator#team=East", "UNOBODY01", "nobody@retain.example"]


def _names(rt, where=None):
    with rt.store.session() as s:
        q = select(Account.name).join(CSM, CSM.id == Account.owner_id)
        return set(s.scalars(q.where(where) if where is not None else q))


def _said(result):
    return result["answer"]["text"] + json.dumps(result["findings"])


def _named(text, names):
    return {n for n in names if re.search(rf"\b{re.escape(n)}\b", text)}


def test_a_forged_or_unknown_identity_is_refused_before_anything_runs(rt):
    a = Assistant(rt, use_memory=False)
    for who in FORGED:
        with pytest.raises(NotFoundError):
            rt.asker(who)
        with pytest.raises(NotFoundError):
            a.ask("which of my accounts are at risk?", who, f"forged:{who}")
        assert a.is_new(f"forged:{who}")  # nothing was checkpointed for it
    assert rt.asker(DANA).scope_team is None  # a real id resolves, and no string can narrow or widen it


def test_an_asker_that_names_nobody_sees_no_account(rt):
    """An `Asker` is trusted only for who it names: one that names no person in Retain gets no row."""
    with rt.store.session() as s:
        aid, acme = s.execute(select(Account.id, Account.name).where(Account.lifecycle_stage != "churned")
                              .order_by(Account.id)).first()
    a = Assistant(rt, use_memory=False)
    for ghost in (Asker(csm_id=999_999, name="Ghost", role="csm", key="UGHOST001"),
                  Asker(csm_id=999_999, name="Ghost", role="manager", key="UGHOST001"),
                  Asker(csm_id=None, name="Nobody", role="csm", key="UNOBODY01")):
        ctx = rt.tool_context(ghost)
        assert crm.portfolio(ctx, limit=500)["accounts"] == []
        with pytest.raises(AccessDenied):
            crm.account_overview(ctx, aid)
        for q in ("which accounts are at risk?", f"how is {acme} doing?", "what changed this week?"):
            r = a.ask(q, ghost, f"ghost:{ghost.role}:{q}")
            assert not _named(_said(r), _names(rt) - {acme}), (ghost, q, r["answer"]["text"])  # only what was typed
            assert "not in your portfolio" in r["answer"]["text"] or acme not in q


def test_a_team_channel_narrows_every_path_of_the_answer(rt):
    """The operator asked in the East channel: no West account in any answer, the briefing paths included;
    the same questions unscoped do name West accounts (so the test can fail)."""
    admin = rt.asker(OPERATOR)
    east = admin.in_team("East")
    west_names = _names(rt, CSM.team != "East")
    a = Assistant(rt, use_memory=False)
    wide_hits = 0
    for q in ("anything I should worry about today?", "what changed this week?", "which accounts are at risk?",
              "what renews in the next 90 days?"):
        narrow = a.ask(q, east, f"east:{q}")
        assert not _named(_said(narrow), west_names), (q, narrow["answer"]["text"])
        wide_hits += bool(_named(_said(a.ask(q, admin, f"all:{q}")), west_names))
    assert wide_hits >= 3


def test_slack_resolves_the_sender_once_and_a_team_channel_narrows_them(slack, monkeypatch):
    """One look-up of the person per Slack event, whatever the answer does; the East channel's answer
    names no account outside East."""
    bot, mock, url = slack
    looked_up = []
    real = bot.services.asker

    def counted(who=None):
        if not isinstance(who, Asker):
            looked_up.append(who)
        return real(who)

    monkeypatch.setattr(bot.services, "asker", counted)
    mention(url, "which accounts are at risk, and what changed this week?", user=DANA, eid="EvOnce")
    bot.inbox.drain()
    assert looked_up == [DANA]
    west_names = _names(bot.services, CSM.team != "East")
    assert mock.of("chat.update") and not _named(json.dumps(mock.of("chat.update")), west_names)


def test_a_forged_clicker_is_never_shown_a_draft(slack):
    """The edit button opens its modal on the ack path: the clicker is resolved as every Slack sender is, so
    the operator's identity (which no Slack member has) or an unknown member never sees the draft's text."""
    bot, mock, url = slack
    value = approval_value(bot, mock, url, MARCUS, "EvDraftForged")
    for k, user in enumerate(("!operator", "UNOBODY01", "")):
        form(url, {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
                   "channel": {"id": "C0EAST0001"}, "message": {"ts": "1700000000.000009"},
                   "trigger_id": f"trig-forged-{k}", "container": {"type": "message"},
                   "actions": [{"action_id": "retain_edit", "value": value, "action_ts": f"18.{k}", "type": "button"}]})
    assert not mock.of("views.open")
