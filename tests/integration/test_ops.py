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
    assert checks["llm"]["detail"].startswith("off") and checks["database"]["required"]
    dead = _free_port()
    broken = _services(rt, memory={"mode": "http", "host": "127.0.0.1", "port": dead},
                       llm={"backend": "openai", "base_url": f"http://retain:hunter2secret@127.0.0.1:{dead}/v1",
                            "api_key": "sk-live-abcdef123456"})
    ok, checks = readiness(broken)
    assert ok  # answers still come from the verified findings: ready, degraded
    assert checks["database"]["ok"] and not checks["memory"]["ok"] and not checks["llm"]["ok"]
    assert not checks["llm"]["required"] and not checks["memory"]["required"]
    text = json.dumps(checks)
    assert "hunter2secret" not in text and "sk-live-abcdef123456" not in text
    assert str(dead) not in text and "127.0.0.1" not in text and "http" not in text  # no URL, host or port at all
    assert "LLM server" in checks["llm"]["detail"] and "Chroma server" in checks["memory"]["detail"]


def test_ops_endpoints_in_socket_mode(rt):
    svc = _services(rt)
    server = serve_ops("127.0.0.1", 0, lambda: readiness(svc))
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert httpx.get(f"{base}/healthz").text == "ok"
        r = httpx.get(f"{base}/readyz")
        assert r.status_code == 200 and r.json()["ready"] is True and r.json()["status"] == "ready"
        assert set(r.json()["checks"]) == {"database", "answering", "memory", "llm"}
        down = serve_ops("127.0.0.1", 0, lambda: readiness(svc, lambda: (False, "the answering process is down")))
        r = httpx.get(f"http://127.0.0.1:{down.server_port}/readyz")
        assert r.status_code == 503 and r.json()["failed"] == ["answering"]
        assert r.json()["checks"]["answering"]["detail"] == "the answering process is down"
        down.shutdown()
        assert httpx.get(f"{base}/nope").status_code == 404
    finally:
        server.shutdown()


def test_llm_or_chroma_down_is_degraded_not_unready(rt):
    """A load balancer must not take every worker out because the optional LLM server is down."""
    dead = _free_port()
    svc = _services(rt, memory={"mode": "http", "host": "127.0.0.1", "port": dead},
                    llm={"backend": "openai", "base_url": f"http://u:pw-secret@127.0.0.1:{dead}/v1"})
    server = serve_ops("127.0.0.1", 0, lambda: readiness(svc))
    try:
        r = httpx.get(f"http://127.0.0.1:{server.server_port}/readyz")
        body = r.json()
        assert r.status_code == 200 and body["ready"] is True and body["status"] == "degraded"
        assert sorted(body["failed"]) == ["llm", "memory"] and "pw-secret" not in r.text
    finally:
        server.shutdown()


def _outside_address():
    """This host's address on its network interface (not loopback), or None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # UDP: no packet is sent; picks the interface
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def test_ops_endpoints_local_only_by_default_and_a_token_when_set(rt):
    svc = _services(rt)
    outside = _outside_address()
    assert outside is not None, "this test needs a network interface besides loopback"
    from integrations.slack.http import OpsAccess, serve_http

    class NoApp:  # the ops GETs never reach Bolt
        pass

    # HTTP mode: /slack/events must be reachable from Slack, the ops endpoints beside it from this host only.
    local = serve_http(NoApp(), "0.0.0.0", 0, lambda: readiness(svc), OpsAccess.for_host("127.0.0.1"))
    try:
        port = local.server_port
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        for path in ("/readyz", "/metrics"):
            assert httpx.get(f"http://{outside}:{port}{path}").status_code == 403
        assert httpx.get(f"http://{outside}:{port}/healthz").text == "ok"
    finally:
        local.shutdown()
    wide = serve_http(NoApp(), "0.0.0.0", 0, lambda: readiness(svc), OpsAccess.for_host("0.0.0.0", "s3cret-token"))
    try:
        url = f"http://{outside}:{wide.server_port}"
        assert httpx.get(f"{url}/readyz").status_code == 401
        assert httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.get(f"{url}/readyz", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and ok.json()["ready"] is True
        assert httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    finally:
        wide.shutdown()
    assert not OpsAccess.for_host("0.0.0.0").local_only and OpsAccess.for_host("127.0.0.1").local_only


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


def test_json_logs_keep_every_traceback_on_one_line(capsys):
    import threading

    logs.configure("json")
    try:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            logging.getLogger("retain.test").exception("failed with password=hunter2")
        t = threading.Thread(target=lambda: {}["missing"], name="retain-doomed")
        t.start()
        t.join()
        err = capsys.readouterr().err
    finally:
        logs.configure("text", "WARNING")
    lines = [json.loads(x) for x in err.strip().splitlines()]  # every line is one JSON object
    caught, uncaught = lines[-2], lines[-1]
    assert caught["error"] == "ZeroDivisionError" and "1 / 0" in caught["traceback"] and "hunter2" not in err
    assert uncaught["error"] == "KeyError" and "retain-doomed" in uncaught["msg"]
    assert "Traceback" in uncaught["traceback"]


def test_one_log_line_per_answered_event(slack, capsys):
    bot, mock, url = slack
    logs.configure("json")
    try:
        mention(url, "who is the champion at Acme Corp?", eid="EvLogLine1", ts="1700000400.000100")
        bot.inbox.drain()
        err = capsys.readouterr().err
    finally:
        logs.configure("text", "WARNING")
    lines = [json.loads(x) for x in err.strip().splitlines() if x.startswith("{")]
    done = [x for x in lines if x.get("event") == "EvLogLine1" and "seconds" in x]
    assert len(done) == 1, lines
    assert done[0]["kind"] == "question" and done[0]["thread"] == "C0EAST0001:1700000400.000100"
    assert done[0]["status"] == "done" and done[0]["seconds"] > 0
