"""The dialogue evaluation parts (issue 36: conversations, constraints, requests) and the harness checks they use."""

from collections import defaultdict
from pathlib import Path

from sqlalchemy import text

from agents.assistant import Assistant
from agents.evaluate import draft_pending, expected_from_sql, load_questions, run_eval
from tools.health import save_snapshots, score_portfolio

DIALOGUE = Path(__file__).resolve().parents[1] / "eval" / "dialogue"
DANA = "dana.reyes@retain.example"


def test_every_dialogue_question_reads_its_facts_from_the_demo(rt):
    today = rt.settings.as_of()
    save_snapshots(rt.store, score_portfolio(rt.store, rt.card, today))  # as `retain demo seed` does
    questions = load_questions(DIALOGUE)
    threads = defaultdict(list)
    for q in questions:
        for spec in q.get("sql", []) + q.get("absent_sql", []):
            assert expected_from_sql(rt.store, [spec], today), f"{q['id']}: {spec[0]} finds nothing"
        facts = [str(f) for f in q.get("facts", [])] + expected_from_sql(rt.store, q.get("sql", []), today)
        wrong = [str(f) for f in q.get("absent", [])] + expected_from_sql(rt.store, q.get("absent_sql", []), today)
        assert facts or q.get("expect") == "access", q["id"]  # a refusal may list only what must not show
        assert not [(w, f) for w in wrong for f in facts if w.lower() in f.lower() or f.lower() in w.lower()], q["id"]
        if q.get("thread"):
            threads[q["thread"]].append(q)
    assert len(threads) >= 40 and all(2 <= len(t) <= 4 and len({q["as"] for q in t}) == 1 for t in threads.values())
    by_file = defaultdict(list)
    for q in questions:
        by_file[q["id"].split("-")[0]].append(q)
    assert len(by_file["k"]) >= 40 and len([q for q in by_file["a"] if q.get("expect") == "draft"]) >= 15
    assert {q["part"] for q in questions} == {"dev", "held"}


def test_absent_sql_counts_what_a_wrong_reading_would_show(rt, tmp_path):
    f = tmp_path / "absent.yaml"
    f.write_text(
        "- {id: shown, as: dana.reyes@retain.example, ask: \"when does Globex renew?\",\n"
        "   absent_sql: [[\"select name from accounts where name='Globex'\", text]]}\n"
        "- {id: not-shown, as: dana.reyes@retain.example, ask: \"when does Globex renew?\",\n"
        "   absent_sql: [[\"select name from accounts where name='Hooli'\", text]]}\n")
    rows = {r["id"]: r for r in run_eval(Assistant(rt, use_memory=False), f)["rows"]}
    assert rows["shown"]["leaked"] == ["Globex"] and not rows["shown"]["correct"]
    assert rows["not-shown"]["leaked"] == [] and "Hooli" not in rows["not-shown"]["unsupported"]


def test_a_draft_counts_only_while_it_waits_for_approval(rt):
    bot = Assistant(rt, use_memory=False)
    r = bot.ask("remember that Acme wants a Spanish model", DANA, "d1")
    assert r["pending"] and r["answer"]["drafts"]
    # The checker reads the answer's mode; label this real pending draft the way a draft answer is labelled.
    shown = {**r, "answer": {**r["answer"], "mode": "draft"}}
    assert draft_pending(rt.store, shown) and draft_pending(rt.store, shown, "fact")
    assert not draft_pending(rt.store, shown, "email")
    as_email = [{**d, "kind": "message", "draft_kind": "email"} for d in shown["answer"]["drafts"]]
    assert draft_pending(rt.store, {**shown, "answer": {**shown["answer"], "drafts": as_email}}, "email")
    assert not draft_pending(rt.store, {**shown, "answer": {**shown["answer"], "mode": "deterministic"}})
    sent = [{**d, "status": "sent"} for d in shown["answer"]["drafts"]]
    assert not draft_pending(rt.store, {**shown, "answer": {**shown["answer"], "drafts": sent}})
    assert not draft_pending(rt.store, {**shown, "pending": []})
    bot.decide("d1", "approve", DANA)
    assert not draft_pending(rt.store, shown)  # it ran: the action log holds its id


def test_a_draft_already_queued_for_sending_is_not_pending(rt):
    bot = Assistant(rt, use_memory=False)
    r = bot.ask("remember that Globex prefers Slack", DANA, "d2")
    shown = {**r, "answer": {**r["answer"], "mode": "draft"}}
    assert draft_pending(rt.store, shown)
    draft_id = shown["answer"]["drafts"][0]["id"]
    with rt.store.session() as s:
        s.execute(text("insert into outbox (key, job, slot, recipient, channel, text, status, attempts, next_try_at, "
                       "created_at) values (:k, 'draft', 'now', 'U1', 'C1', 'hi', 'pending', 0, :t, :t)"),
                  {"k": f"draft:{draft_id}:U1", "t": "2026-11-23 09:00:00"})
        s.commit()
    assert not draft_pending(rt.store, shown)
