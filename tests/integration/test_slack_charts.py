"""Charts are pictures of data: any account name draws as plain text, and a chart never costs the answer."""

import json
from datetime import datetime, timedelta

from slack_http import DANA, form
from sqlalchemy import select

from integrations.crm.models import Account
from integrations.slack.charts import health_trend_png, portfolio_png

EVIL = r"Evil $\undefinedmacro$ Co"
PNG = b"\x89PNG\r\n\x1a\n"


def _rename(bot, old, new):
    with bot.services.store.session() as s:
        s.scalars(select(Account).where(Account.name == old)).one().name = new
        s.commit()


def _account_card(url, text, trigger):
    return form(url, command="/retain", text=text, user_id=DANA, channel_id="D0DANA0001", team_id="T1",
                trigger_id=trigger, response_url="https://hooks.slack.com/x", api_app_id="A1")


def _retry_everything(bot):
    for n in range(1, 4):  # the inbox's backoffs, run now: anything that failed is tried again
        bot.inbox.tick(now=datetime.now() + timedelta(minutes=10 * n))
        bot.inbox.drain()


def _cards(mock):
    return [p for p in mock.of("chat.postEphemeral") if "P(renew)" in json.dumps(p.get("blocks"))]


def test_an_account_named_like_mathtext_gets_one_card_and_its_chart(slack):
    bot, mock, url = slack
    _rename(bot, "Acme Corp", EVIL)
    assert _account_card(url, "account Evil", "t-evil").status_code == 200
    bot.inbox.drain()
    _retry_everything(bot)
    assert len(_cards(mock)) == 1 and _cards(mock)[0]["text"].startswith(EVIL)
    assert len(mock.uploads) == 1 and mock.uploads[0][:8] == PNG
    assert not [p for p in mock.of("chat.postEphemeral") if "something failed" in p.get("text", "")]


def test_a_chart_that_cannot_be_uploaded_never_repeats_or_fails_the_card(slack):
    bot, mock, url = slack
    mock.fail["files.getUploadURLExternal"] = [(500, {})] * 30  # Slack's file service is down
    assert _account_card(url, "account Acme", "t-noupload").status_code == 200
    bot.inbox.drain()
    _retry_everything(bot)
    assert len(_cards(mock)) == 1
    assert not [p for p in mock.of("chat.postEphemeral") if "something failed" in p.get("text", "")]


def test_chart_text_is_plain_whatever_the_names_say():
    days = [datetime(2026, 11, d).date() for d in (2, 9, 16, 23)]
    assert health_trend_png(EVIL, days, [70, 60, 50, 40], {"green": 75, "yellow": 55})[:8] == PNG
    rows = [{"account": n, "score": 40, "band": "red", "days": 20, "arr": 120000}
            for n in (EVIL, "$x^2$ Ltd", r"Back\slash $$ Inc", "$", "Bare $5 deal")]
    assert portfolio_png(rows, rows, f"{EVIL}: portfolio")[:8] == PNG
