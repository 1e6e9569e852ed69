"""A template draft (no chat model) says what the CSM asked for, never the CSM's instruction: no "msg to", "w him",
"ask if", recipient role or shorthand in the subject or body; "it" is the record the thread was about, or a question.

Through `Assistant.ask` on the seeded demo, with threads of two or three turns.
"""

from agents.assistant import Assistant

DANA, SAM = "dana.reyes@retain.example", "sam.okafor@retain.example"
FRAME = ("msg", " w ", "ask if", "ask whether", "ask them", "let them know", "pls", "thx", "draft", "champion",
         "admin", "exec sponsor", "their ")


def _draft(bot, ask, who=DANA, thread="w"):
    ans = bot.ask(ask, who, thread)["answer"]
    assert ans["mode"] == "draft", (ask, ans["text"][:300])
    [d] = ans["drafts"]
    assert d["status"] == "pending"
    lower = f" {d['subject']} {d['body']} ".lower()
    assert not [w for w in FRAME if w in lower], (ask, d["subject"], d["body"])
    return d["subject"], d["body"]


def test_the_message_says_the_topic_and_asks_the_question(rt):
    bot = Assistant(rt, use_memory=False)
    subject, body = _draft(bot, "pls write a quick slack msg to initech's champion re the sso cert renewal, ask "
                                "whether their legal review is finished thx", thread="q1")
    assert subject.endswith(": SSO certificate renewal"), subject
    assert "the SSO certificate renewal" in body and "Could you let me know whether your legal review is finished?" \
        in body
    subject, body = _draft(bot, "draft an email to globex's admin regarding the data export, ask them to confirm "
                                "their retention window", thread="q2")
    assert subject == "Globex: Data export" and "Could you confirm your retention window?" in body
    subject, body = _draft(bot, "send umbrella's exec sponsor a note on the pilot results and let them know the "
                                "hotfix is deployed", SAM, thread="q3")
    assert "the pilot results" in body and "let you know that the hotfix is deployed" in body


def test_a_meeting_invite_loses_the_with_and_names_its_topic(rt):
    bot = Assistant(rt, use_memory=False)
    subject, body = _draft(bot, "set up a sync w acme's champion fri at 3pm re the onboarding plan", thread="m1")
    assert subject.startswith("Acme Corp: Onboarding plan sync on Friday 2026-11-27"), subject
    assert "(30 minutes) about the onboarding plan." in body
    bot.ask("who is globex's exec sponsor", DANA, "m2")
    subject, body = _draft(bot, "book a call w him thursday at 10am about the expansion", thread="m2")
    assert subject.startswith("Globex: Expansion call on Thursday 2026-11-26"), subject
    assert "about the expansion." in body


def test_it_is_the_record_the_thread_was_about(rt):
    bot = Assistant(rt, use_memory=False)
    bot.ask("list umbrella corp's fine-tune jobs", SAM, "i1")
    subject, body = _draft(bot, "email morgan about retrying it with a lower learning rate", SAM, "i1")
    assert "retrying the November fine-tune job (nimbus-small v2.4) with a lower learning rate" in body, body
    assert "retrying it" not in body and "Would that work" not in body  # nothing was proposed
    bot.ask("what are initech's open tickets", DANA, "i2")  # two tickets: "it" is not one record
    ans = bot.ask("email initech's champion about it", DANA, "i2")["answer"]
    assert ans["mode"] == "clarify" and not ans["drafts"] and "be about" in ans["text"], ans["text"]
