"""What a chat model costs: no call where it cannot help, prose off for a model the verifier keeps
rejecting, and prompt tokens counted exactly, with the system prefix read from the prompt cache.

Agent logic runs with queued fake chat models (calls counted on the fake); the llama.cpp path runs the
real SmolLM2 file from ../shared/models.
"""

from __future__ import annotations

from fakes import QueuedChat
from models_dir import SMOLLM2, model

from agents import llm_gate, prose_gate
from agents.assistant import Assistant
from agents.evaluate import run_eval
from core.settings import load_settings
from integrations import llama, verdicts
from integrations.llm import LlamaCppChat
from prompts import load
from tools.services import Services

DANA = "dana.reyes@retain.example"
INVENTED = "Acme Corp renewal risk is 87% and ARR is $9,999,999 [1]."


def queued(n: int = 0, reply: str = INVENTED) -> QueuedChat:
    return QueuedChat(replies=[reply] * n, asked=[], kwargs=[])


def with_llm(rt, **llm) -> Services:
    return Services(load_settings(data_dir=str(rt.settings.data_dir), today=rt.settings.today, llm=llm))


def test_a_sure_lookup_list_or_metric_makes_no_model_call(rt):
    chat = queued(0)  # any call at all raises: the queue is empty
    bot = Assistant(rt, chat=chat, use_memory=False)
    det = Assistant(rt, use_memory=False)
    for k, ask in enumerate(["who's the champion at Globex?", "top 3 accounts by ARR",
                             "which of my accounts are NPS detractors?", "what industry is Acme in?"]):
        r = bot.ask(ask, DANA, f"s{k}")
        assert r["route"]["intents"] == ["query"], ask
        assert r["llm"]["calls"] == 0 and r["answer"]["llm_calls"] == {} and not chat.asked, ask
        assert r["answer"]["note"].startswith("sure "), r["answer"]["note"]
        assert r["answer"]["text"] == det.ask(ask, DANA, f"d{k}")["answer"]["text"]  # the same answer, no cost


def test_sure_means_matched_applied_and_nothing_left_over(rt):
    bot = Assistant(rt, use_memory=False)
    ask = "who's the champion at Globex?"
    route = bot.ask(ask, DANA, "u1")["route"]
    assert llm_gate.sure(ask, route)
    assert llm_gate.unmatched(ask + " and the zorbly flange", route) == ["flange", "zorbly"]
    assert not llm_gate.sure(ask + " and the zorbly flange", route)  # words of substance nothing read
    assert not llm_gate.sure(ask, {**route, "not_applied": ["before the board meeting"]})  # a dropped constraint
    assert not llm_gate.sure(ask, {**route, "method": "llm query"})  # a model's reading is not sure
    assert not llm_gate.sure(ask, {**route, "intents": ["query", "renewal"]})  # an agent's findings to tell


def test_an_answer_that_is_not_a_plain_query_result_still_gets_prose_and_counts_it(rt):
    chat = queued(1)
    r = Assistant(rt, chat=chat, use_memory=False).ask("how is Acme doing?", DANA, "h1")
    assert r["llm"]["calls"] == 1 and r["answer"]["llm_calls"] == {"prose": 1} and r["llm"]["by_kind"] == {"prose": 1}
    assert r["answer"]["mode"] == "deterministic" and "87%" in r["answer"]["unsupported"]  # the verifier said no


def test_prose_turns_off_when_the_verifier_rejects_nearly_all_of_a_models_drafts(rt):
    rt2 = with_llm(rt, prose_min=3, prose_window=4, prose_off_at=0.9, prose_probe_every=0)
    chat = queued(3)
    bot = Assistant(rt2, chat=chat, use_memory=False)
    for k in range(3):
        r = bot.ask("how is Acme doing?", DANA, f"p{k}")
        assert r["llm"]["calls"] == 1 and r["answer"]["mode"] == "deterministic"
    assert prose_gate.state_line(rt2.settings, "queued-fake") == "prose off: the verifier rejected 3 of the last 3"
    r = bot.ask("how is Acme doing?", DANA, "p3")  # the queue is empty: a call would raise
    assert r["llm"]["calls"] == 0 and r["answer"]["note"] == "prose off: the verifier rejected 3 of the last 3"
    assert r["answer"]["text"] == r["answer"]["deterministic"] and "Acme" in r["answer"]["text"]
    # Verified prose counts too: a window that is mostly verified keeps prose on.
    for ok in (True, True, True):
        verdicts.record(rt2.settings.data_dir, "queued-fake", ok, 4)
    assert prose_gate.state_line(rt2.settings, "queued-fake") == "prose on: the verifier rejected 1 of the last 4"


def test_a_closed_gate_lets_one_answer_in_n_try_again(rt):
    rt2 = with_llm(rt, prose_min=2, prose_window=10, prose_probe_every=3)
    for _ in range(2):
        verdicts.record(rt2.settings.data_dir, "queued-fake", False, 10)
    chat = queued(1)
    bot = Assistant(rt2, chat=chat, use_memory=False)
    calls = [bot.ask("how is Acme doing?", DANA, f"q{k}")["llm"]["calls"] for k in range(3)]
    assert calls == [0, 0, 1]


def test_models_list_says_when_prose_is_off_and_a_real_model_is_not_asked(rt, run_cli):
    path = model(SMOLLM2)
    for k in range(50):
        verdicts.record(rt.settings.data_dir, path.name, k in (7, 30), 50)
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_LLM__MODEL_PATH": str(path),
           "RETAIN_LLM__BACKEND": "llamacpp"}
    code, out, err = run_cli("models", "list", env_extra=env)
    assert code == 0, err
    assert "prose off: the verifier rejected 48 of the last 50" in out
    chat = LlamaCppChat(path, n_ctx=2048, n_threads=1, max_tokens=40)
    r = Assistant(rt, chat=chat, use_memory=False).ask("how is Acme doing?", DANA, "m1")
    assert not chat.log.calls and r["llm"]["calls"] == 0
    assert r["answer"]["note"] == "prose off: the verifier rejected 48 of the last 50"


def test_prompt_tokens_are_exact_and_each_system_prefix_stays_cached(rt):
    path = model(SMOLLM2)
    chat = LlamaCppChat(path, n_ctx=2048, n_threads=1, max_tokens=4)
    compose = {"role": "system", "content": load("compose")}
    router = {"role": "system", "content": load("router")}
    asks = [(compose, "Question: how is Acme doing?"), (router, "how is Acme"),
            (compose, "Question: what about Globex lately?")]
    for system, user in asks:
        chat.complete([system, {"role": "user", "content": user}])
    first, _, third = chat.log.calls
    loaded = llama.load(path, n_ctx=2048, n_threads=1)
    with loaded.lock:  # the model's own count of the same prompts
        want = [loaded.llama.create_chat_completion(messages=[s, {"role": "user", "content": u}], max_tokens=1)
                ["usage"]["prompt_tokens"] for s, u in asks]
    assert [c.prompt_tokens for c in chat.log.calls] == want
    system_tokens = len(loaded.llama.tokenize(load("compose").encode(), add_bos=False))
    # The router's call came in between, yet the composer's system prompt was not read again.
    assert third.cached_tokens >= system_tokens and third.cached_tokens < third.prompt_tokens
    assert first.cached_tokens < system_tokens


def test_the_eval_reports_calls_by_kind_and_prompt_tokens_per_call(rt):
    subset = rt.settings.data_dir / "cost.yaml"
    subset.write_text("\n".join([
        "- {id: c1, as: dana.reyes@retain.example, ask: \"who's the champion at Globex?\", facts: []}",
        "- {id: c2, as: dana.reyes@retain.example, ask: \"how is Acme doing?\", facts: [Acme Corp]}",
    ]))
    report = run_eval(Assistant(rt, chat=queued(1), use_memory=False), subset)
    rows = {r["id"]: r for r in report["rows"]}
    assert rows["c1"]["llm_calls"] == 0 and rows["c1"]["call_tokens"] == []
    assert rows["c2"]["llm_by_kind"] == {"prose": 1} and rows["c2"]["call_tokens"][0][0] > 0
    assert report["llm_calls_per_question"] == {"prose": 0.5} and report["crashes"] == 0
    assert report["prompt_tokens_per_call"]["median"] == rows["c2"]["call_tokens"][0][0]


def test_drafts_have_a_prose_window_of_their_own(rt):
    rt2 = with_llm(rt, prose_min=2, prose_window=4, prose_probe_every=0)
    bad = "Hi Elena,\n\nWe can offer 20% off if two more teams join by 2027-01-15. See https://x.example.\n\nDana"
    bot = Assistant(rt2, chat=queued(2, bad), use_memory=False)
    ask = "draft a note to Acme's champion proposing a call next week about two more teams"
    for k in range(2):
        r = bot.ask(ask, DANA, f"d{k}")
        assert r["llm"]["by_kind"] == {"draft": 1} and "unsupported" in r["answer"]["note"]
    r = bot.ask(ask, DANA, "d2")  # the queue is empty: a call would raise
    assert r["llm"]["calls"] == 0
    assert r["answer"]["note"] == "template (prose off: the verifier rejected 2 of the last 2)"
    assert r["answer"]["drafts"][0]["body"].startswith("Hi Elena,") and r["pending"]
    assert prose_gate.state_line(rt2.settings, "queued-fake") == "prose on: no drafts judged yet"  # answers: untouched
