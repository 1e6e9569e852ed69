"""A follow-up answers the question asked of the last list, not a neighbouring one (issue 36).

Milestones "due" in a window across the asker's plans are the not-done steps due in it (overdue ones are not
"due in the next days"), and "who owns the X one" after them is the step's owner; "which one's been waiting
longest" after per-account ticket counts is the oldest ticket of those rows; a superlative that names a measure
the list did not show ("the lowest final loss") ranks the list's rows on that field, not on another score.
"""

from sqlalchemy import text

from agents.assistant import Assistant

DANA = "dana.reyes@retain.example"
SAM = "sam.okafor@retain.example"
LENA = "lena.fischer@retain.example"
OLIVIA = "olivia.grant@retain.example"


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


STEPS = ("select a.name, m.name, m.owner, m.due_date from milestones m join onboarding_plans p on p.id = m.plan_id "
         "join accounts a on a.id = p.account_id where a.owner_id = (select id from csms where name = 'Lena Fischer') "
         "and m.status != 'done' and m.due_date {} order by m.due_date")


def test_steps_due_in_a_window_across_my_plans_and_the_owner_of_one_of_them(rt):
    bot = Assistant(rt, use_memory=False)
    due = _sql(rt, STEPS.format("between '2026-11-23' and '2026-12-03'"))
    late = _sql(rt, STEPS.format("< '2026-11-23'"))
    after = _sql(rt, STEPS.format("between '2026-12-04' and '2026-12-31'"))
    assert len(due) >= 2 and late and after
    for ask in ("what's coming due across my plans over the next 10 days",
                "over the next 10 days whats due in my plans"):
        r = bot.ask(ask, LENA, "due:" + ask)
        t = r["answer"]["text"]
        assert t.splitlines()[0].startswith("Onboarding milestones, due 2026-11-23 to 2026-12-03, not done"), t
        for _acct, step, _, day in due:
            assert step in t and str(day)[:10] in t, (step, t)
        assert not any(str(d)[:10] in t for *_, d in late + after), t  # overdue or later steps are not "due" now
        assert "renews" not in t, t
    acct, step, owner, _ = due[-1]
    r = bot.ask(f"who owns the {acct.split()[0].lower()} one", LENA, "due:" + ask)
    t = r["answer"]["text"]
    assert step in t and f"owner {owner}" in t and "Lena Fischer" not in t, t


def test_the_ticket_waiting_longest_after_counts_per_account_is_the_oldest_of_those_tickets(rt):
    bot = Assistant(rt, use_memory=False)
    rows = _sql(rt, "select a.name, t.subject, t.opened_at from tickets t join accounts a on a.id = t.account_id "
                    "where a.owner_id = (select id from csms where name = 'Dana Reyes') and t.status = 'open' "
                    "and t.opened_at >= '2026-11-05' order by t.opened_at")
    older = _sql(rt, "select t.subject from tickets t join accounts a on a.id = t.account_id where a.owner_id = "
                     "(select id from csms where name = 'Dana Reyes') and t.status = 'open' "
                     "and t.opened_at < '2026-11-05'")
    assert len({r[0] for r in rows}) >= 3 and older
    for n, ask in enumerate(("which one's been waiting longest", "which has been sitting the longest")):
        r = [bot.ask(a, DANA, f"wait{n}") for a in ("my open tickets opened since nov 5", "how many per account",
                                                     ask)][-1]
        t = r["answer"]["text"]
        assert rows[0][1] in t and rows[0][0] in t and str(rows[0][2])[:10] in t, t
        assert "health" not in t.split("\n")[0], t  # not the accounts sorted by health


def test_a_superlative_on_a_measure_the_list_did_not_show_ranks_the_rows_on_that_measure(rt):
    bot = Assistant(rt, use_memory=False)
    jobs = _sql(rt, "select a.name, f.created_on, f.loss_final, f.eval_score from fine_tune_jobs f join accounts a "
                    "on a.id = f.account_id where a.owner_id = (select id from csms where name = 'Sam Okafor') and "
                    "f.created_on >= '2026-08-01' and f.loss_final is not null")
    low_loss = min(jobs, key=lambda j: j[2])
    low_eval = min((j for j in jobs if j[3] is not None), key=lambda j: j[3])
    assert low_loss[0] != low_eval[0]
    for n, ask in enumerate(("and lowest final loss", "which one had the lowest final loss?")):
        r = [bot.ask(a, SAM, f"loss{n}") for a in ("fine-tunes since august", ask)][-1]
        t = r["answer"]["text"]
        assert "final" in t.split("\n")[0] and "lowest first" in t.split("\n")[0], t
        assert low_loss[0] in t and f"{low_loss[2]:.2f}" in t and low_eval[0] not in t, t


def test_whose_accounts_after_churned_renewals_gives_the_former_accounts_owners_within_scope(rt):
    bot = Assistant(rt, use_memory=False)
    churns = _sql(rt, "select a.name, cs.name, cs.team from renewal_events r join accounts a on a.id = r.account_id "
                      "join csms cs on cs.id = a.owner_id where r.outcome = 'churned' and a.lifecycle_stage = "
                      "'churned' and r.renewal_date between '2025-01-01' and '2025-12-31'")
    east = [c for c in churns if c[2] == "East"]
    west = [c for c in churns if c[2] != "East"]
    assert len(east) >= 2 and west
    for n, ask in enumerate(("whose accounts were those", "who were their owners?")):
        r = [bot.ask(a, OLIVIA, f"gone{n}") for a in ("which customers churned in 2025", ask)][-1]
        t = r["answer"]["text"]
        assert r["answer"]["mode"] == "deterministic", t
        for acct, owner, _ in east:
            assert any(acct in line and f"owner {owner}" in line for line in t.splitlines()), (acct, t)
        assert not any(acct in t for acct, *_ in west), t  # a manager of East sees East's accounts only
