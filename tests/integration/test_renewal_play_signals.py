"""A renewal play of "on track" never sits beside qualitative risk signals: when the window holds any
(answered by a follow-up or not), the play addresses them; "on track" is left for accounts with none.

Through `Assistant.ask` on the seeded demo, over every live account whose notes carry a signal.
"""

from sqlalchemy import select

from agents.assistant import Assistant
from integrations.crm.models import CSM, Account
from tools import risk_signals


def test_no_renewal_with_a_signal_in_the_window_is_called_on_track(rt):
    bot = Assistant(rt, use_memory=False)
    with rt.store.session() as s:
        rows = s.execute(select(Account.id, Account.name, CSM.email).join(CSM, CSM.id == Account.owner_id)
                         .where(Account.lifecycle_stage != "churned")).all()
    followed_only = 0
    for aid, name, owner in rows:
        found = risk_signals.account_signals(rt.store, aid, rt.settings.as_of())
        if not found:
            continue
        followed_only += not any(x["unanswered"] for x in found)
        text = bot.ask(f"what's the renewal outlook for {name}?", owner, f"r{aid}")["answer"]["text"]
        assert "Risk signal" in text and "On track" not in text, text
        assert "Save play" in text, text
    assert followed_only  # the demo holds accounts whose every signal was followed up: the case this guards
