"""Issue 29 item 14: a CSM's labels and answers never move because another team's accounts changed.

"high-value" was the top quarter of ARR across every account, so raising ARR in a book Dana cannot
see turned her biggest accounts into "healthy". It is now a fixed setting (`labels.high_value_arr`).
Real demo CRM, the real assistant answering Dana's renewal question.
"""

from __future__ import annotations

from sqlalchemy import select, update

from agents.assistant import Assistant
from core.settings import load_settings
from integrations.crm.models import CSM, Account
from tools import crm
from tools.services import Services

DANA = "dana.reyes@retain.example"


def _renewal_answer(rt: Services, name: str, thread: str) -> str:
    bot = Assistant(rt, use_memory=False)
    return bot.ask(f"how is the renewal for {name} looking?", DANA, thread)["answer"]["text"]


def test_another_teams_arr_does_not_change_a_csms_labels_or_answer(rt):
    with rt.store.session() as s:
        dana = s.scalars(select(CSM).where(CSM.email == DANA)).one()
        others = [i for i, team in s.execute(select(CSM.id, CSM.team)) if team != dana.team]
    ctx = rt.tool_context(DANA)
    mine = ctx.visible(ctx.health().frame()).index.tolist()
    before = crm.segments(ctx, mine)
    high = [a for a in mine if before[a]["segment"] == "high-value"]
    assert high, "the demo gives Dana a high-value account"
    name = ctx.health().features.loc[high[0], "name"]
    answer = _renewal_answer(rt, name, "r1")
    assert "high-value" in answer

    with rt.store.session() as s:  # another team lands much bigger deals
        s.execute(update(Account).where(Account.owner_id.in_(others)).values(arr=Account.arr * 10))
    fresh = Services(load_settings(data_dir=str(rt.settings.data_dir), today=rt.settings.today,
                                   database_url=rt.settings.database_url))  # a new process: nothing cached
    after = crm.segments(fresh.tool_context(DANA), mine)
    assert after == before
    assert _renewal_answer(fresh, name, "r2") == answer


def test_the_threshold_is_a_setting(rt):
    ctx = rt.tool_context(DANA)
    mine = ctx.visible(ctx.health().frame()).index.tolist()
    low = Services(load_settings(data_dir=str(rt.settings.data_dir), today=rt.settings.today,
                                 database_url=rt.settings.database_url, labels={"high_value_arr": 0}))
    segs = crm.segments(low.tool_context(DANA), mine)
    assert {v["segment"] for v in segs.values()} <= {"at risk", "growth potential", "high-value"}
    assert "high-value" in {v["segment"] for v in segs.values()}
