""""When did we last touch <account>?" in its wordings: the account's latest activity of any kind, its date,
its kind and how long ago; "how long since" is the question, not a window left unapplied.

Through `Assistant.ask` on the seeded demo; the latest activity is read from the database by the test.
"""

from sqlalchemy import select

from agents.assistant import Assistant
from integrations.crm.models import CSM, Account, Activity

DANA, MARCUS = "dana.reyes@retain.example", "marcus.chen@retain.example"


def _latest(rt, account):
    with rt.store.session() as s:
        aid = s.scalar(select(Account.id).where(Account.name == account))
        return s.scalars(select(Activity).where(Activity.account_id == aid)
                         .order_by(Activity.occurred_on.desc(), Activity.id.desc())).first()


def _accounts(rt, owner):
    with rt.store.session() as s:
        return list(s.scalars(select(Account.name).join(CSM, CSM.id == Account.owner_id)
                              .where(CSM.email == owner, Account.lifecycle_stage != "churned").order_by(Account.id)))


def test_last_touch_in_several_wordings_gives_the_latest_activity_its_kind_and_days_ago(rt):
    bot = Assistant(rt, use_memory=False)
    today = rt.settings.as_of()
    asks = [(DANA, "when did someone on our side last engage with {}?"),
            (DANA, "how long has it been since we touched {}?"),
            (MARCUS, "when did anybody last interact with {}?")]
    for k, (who, ask) in enumerate(asks):
        account = _accounts(rt, who)[k]
        last = _latest(rt, account)
        text = bot.ask(ask.format(account), who, f"t{k}")["answer"]["text"]
        assert f"Last {last.kind} with {account}: {last.occurred_on.isoformat()}" in text, text
        assert f"{(today - last.occurred_on).days} days ago" in text, text
        assert "I did not apply" not in text, text
