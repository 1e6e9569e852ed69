"""Operations: liveness, readiness (database, memory, LLM), Prometheus metrics and JSON logs."""

import json
import logging
import socket

import httpx
from slack_http import mention

from core import logs
from core.settings import load_settings
from integrations.slack.http import serve_ops
from retain.ops import readiness
from tools.services import Services


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _services(rt, **kw):
    kw.setdefault("llm", {"backend": "none"})
    extra = {"database_url": rt.settings.database_url} if rt.settings.database_url else {}
    return Services(load_settings(data_dir=str(rt.settings.data_dir), today=rt.settings.today, **extra, **kw))


def test_readiness_checks_each_dependency_and_never_shows_secrets(rt):
    ok, checks = readiness(_services(rt))
    assert ok and checks["database"]["ok"] and "schema" in checks["database"]["detail"]
    assert checks["llm"]["detail"].startswith("off")
    dead = _free_port()
    broken = _services(rt, memory={"mode": "http", "host": "127.0.0.1", "port": dead},
                       llm={"backend": "openai", "base_url": f"http://retain:hunter2secret@127.0.0.1:{dead}/v1",
                            "api_key": "sk-live-abcdef123456"})
    ok, checks = readiness(broken)
    assert not ok
    assert checks["database"]["ok"] and not checks["memory"]["ok"] and not checks["llm"]["ok"]
    text = json.dumps(checks)
    assert "hunter2secret" not in text and "sk-live-abcdef123456" not in text


def test_ops_endpoints_in_socket_mode(rt):
    svc = _services(rt)
    server = serve_ops("127.0.0.1", 0, lambda: readiness(svc))
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert httpx.get(f"{base}/healthz").text == "ok"
        r = httpx.get(f"{base}/readyz")
        assert r.status_code == 200 and r.json()["ready"] is True
        assert set(r.json()["checks"]) == {"database", "memory", "llm"}
        down = serve_ops("127.0.0.1", 0, lambda: (False, {"database": {"ok": False, "detail": "x"}}))
        assert httpx.get(f"http://127.0.0.1:{down.server_port}/readyz").status_code == 503
        down.shutdown()
        assert httpx.get(f"{base}/nope").status_code == 404
    finally:
        server.shutdown()


def _sample(text, name, **labels):
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_events_answers_and_latency(slack):
    bot, mock, url = slack
    metrics_url = url.replace("/slack/events", "/metrics")
    before = httpx.get(metrics_url).text
    mention(url, "who is the champion at Acme Corp?", eid="EvMetrics1", ts="1700000300.000100")
    mention(url, "who is the champion at Acme Corp?", eid="EvMetrics1", ts="1700000300.000100", retry=1)
    bot.inbox.drain()
    after = httpx.get(metrics_url)
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    received = "retain_slack_events_received_total"
    answered = "retain_slack_events_answered_total"
    assert _sample(text, received, kind="question") - _sample(before, received, kind="question") == 1  # not the retry
    assert _sample(text, answered, kind="question") - _sample(before, answered, kind="question") == 1
    assert _sample(text, "retain_answer_seconds_count", kind="question") >= 1


def test_json_logs_carry_event_and_thread_ids(capsys):
    logs.configure("json")
    try:
        with logs.context(event="Ev42", slack_thread="C1:1700000000.1", kind="question"):
            logging.getLogger("retain.test").warning("answered with token xoxb-1234567890-abcdef")
        logging.getLogger("retain.test").warning("outside")
        lines = [json.loads(x) for x in capsys.readouterr().err.strip().splitlines()]
    finally:
        logs.configure("text", "WARNING")
    inside, outside = lines[-2], lines[-1]
    assert inside["event"] == "Ev42" and inside["thread"] == "C1:1700000000.1" and inside["kind"] == "question"
    assert inside["level"] == "WARNING" and "xoxb-1234567890" not in inside["msg"]
    assert "event" not in outside and outside["msg"] == "outside"
