"""`retain mcp --http` as a real process on 127.0.0.1, driven by the MCP SDK's own streamable HTTP client.

One server for the module, over its own copy of the seeded demo with a canary account in another
team's book; each test makes the tokens it needs (with `retain mcp tokens`, the real command).
"""

import json
import subprocess
import sys
import threading

import anyio
import httpx2
import pytest
from conftest import seeded_copy
from mcp_rig import (
    CANARY,
    DANA,
    DANA_SLACK,
    MARCUS,
    TOOLS,
    SlackSigned,
    every_tool,
    http_session,
    plant_canary,
    server_env,
)

from core.settings import load_settings
from tools.services import Services

SECRET = "mcp-test-signing-secret"
TEAM = "T0RETAIN01"


@pytest.fixture(scope="module")
def server(seeded_dir, tmp_path_factory):
    """(url, env, services): the server, the environment its commands run with, and its data."""
    d = tmp_path_factory.mktemp("mcp-http") / "demo"
    url = seeded_copy(seeded_dir, d)
    rt = Services(load_settings(data_dir=str(d), today="2026-11-23", database_url=url))
    plant_canary(rt.store)
    env = server_env(str(d), url, RETAIN_MCP__SLACK_IDENTITY="true", RETAIN_SLACK__SIGNING_SECRET=SECRET,
                     RETAIN_MCP__SLACK_TEAM_ID=TEAM, RETAIN_MCP__PUBLIC_HOSTS='["retain.test.example"]')
    proc = subprocess.Popen([sys.executable, "-m", "retain", "mcp", "--http", "--port", "0", "--no-llm"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log: list[str] = []
    for line in proc.stderr:  # the server says where it listens once the socket is bound
        log.append(line)
        if " on http://" in line:
            break
    else:
        pytest.fail("retain mcp --http did not start:\n" + "".join(log))
    threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True).start()
    yield line.rsplit(" on ", 1)[1].strip(), env, rt
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    assert "Traceback" not in "".join(log), "".join(log)
    rt.store.engine.dispose()


def token(env, run_cli, email, label="test"):
    code, out, err = run_cli("mcp", "tokens", "add", email, "--label", label, "--json", env_extra=env)
    assert code == 0, err
    row = json.loads(out)
    return row["id"], row["token"]


def _post_initialize(url, **headers):
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    return httpx2.post(url, json=body, headers={"Accept": "application/json, text/event-stream", **headers},
                       timeout=120)


def test_without_a_valid_token_nothing_is_reached_and_a_csm_sees_only_her_book(server, run_cli):
    url, env, _ = server
    for headers in ({}, {"Authorization": "Bearer rtn_not-a-token-anyone-made"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer"}):
        r = _post_initialize(url, **headers)
        assert r.status_code == 401 and "result" not in r.json(), (headers, r.text)
        assert r.headers["www-authenticate"].startswith("Bearer")
    _, dana = token(env, run_cli, DANA)
    assert _post_initialize(url, Authorization=f"Bearer {dana}").status_code == 200
    assert _post_initialize(url, Authorization=f"Bearer {dana}", Host="retain.test.example").status_code == 200
    assert _post_initialize(url, Authorization=f"Bearer {dana}", Host="rebound.evil.example").status_code == 421

    async def go():
        async with http_session(url, dana) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            return tools, await every_tool(s)

    tools, seen = anyio.run(go)
    assert set(tools) == TOOLS and all(t.input_schema["properties"] for n, t in tools.items() if n != "portfolio")
    for name, text in seen.items():
        assert CANARY not in text, (name, text[:400])
    assert "Acme Corp" in seen["0:portfolio"] and '"count": 24' in seen["0:portfolio"]
    assert "not in your portfolio" in seen["6:account"] and "Briefing for Dana Reyes" in seen["briefing"]
    assert '"blocks"' not in seen["7:ask"]  # Block Kit only for Slack

    metrics = httpx2.get(url.replace("/mcp", "/metrics"), timeout=60).text
    assert 'retain_mcp_calls_total{status="ok",tool="portfolio"}' in metrics
    assert 'retain_mcp_calls_total{status="error",tool="account"}' in metrics  # the refused canary
    assert httpx2.get(url.replace("/mcp", "/healthz"), timeout=60).text == "ok"
    ready = httpx2.get(url.replace("/mcp", "/readyz"), timeout=120)
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["ok"]


async def _refused(url, tok):
    """Whether a session bearing `tok` is refused (the SDK client fails on the 401), and never answered."""
    try:
        async with http_session(url, tok) as s:
            r = await s.call_tool("portfolio", {"limit": 1})
            return r.is_error and "Acme" not in str(r.structured_content)
    except Exception:  # noqa: BLE001 - the SDK raises its own transport error for a 401
        return True


def test_a_revoked_token_or_a_deactivated_persons_is_refused_and_others_still_work(server, run_cli):
    url, env, _ = server
    first, dana1 = token(env, run_cli, DANA, "laptop")
    _, dana2 = token(env, run_cli, DANA, "desktop")
    _, marcus = token(env, run_cli, MARCUS)

    async def open_then_revoked():
        async with http_session(url, dana1) as s:
            ok = await s.call_tool("portfolio", {"limit": 1})
            code, _, err = run_cli("mcp", "tokens", "revoke", str(first), env_extra=env)
            assert code == 0, err
            try:
                after = await s.call_tool("portfolio", {"limit": 1})
                late = after.is_error and "Acme" not in str(after.structured_content)
            except Exception:  # noqa: BLE001 - refused mid-session: the next request got 401
                late = True
            return ok, late

    ok, refused_in_session = anyio.run(open_then_revoked)
    assert not ok.is_error and refused_in_session
    assert anyio.run(_refused, url, dana1)
    assert not anyio.run(_refused, url, dana2)  # her other token still works
    code, out, err = run_cli("mcp", "tokens", "list", "--json", env_extra=env)
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows[first]["revoked_at"] and not rows[first]["active"] and rows[first]["last_used_at"]
    assert "rtn_" not in out  # the list never shows a token

    assert not anyio.run(_refused, url, marcus)
    code, _, err = run_cli("csms", "deactivate", MARCUS, env_extra=env)
    assert code == 0, err
    assert anyio.run(_refused, url, marcus)


def test_slack_identity_auth_maps_the_signed_user_and_refuses_what_slack_did_not_sign(server):
    url, _, _ = server
    dana = {"slack": {"user_id": DANA_SLACK, "team_id": TEAM}}

    async def signed(auth, meta):
        async with http_session(url, auth=auth) as s:
            names = {t.name for t in (await s.list_tools()).tools}
            return names, await s.call_tool("portfolio", {"limit": 200}, meta=meta)

    async def everything():
        async with http_session(url, auth=SlackSigned(SECRET)) as s:
            return await every_tool(s, meta=dana), await s.call_tool("account", {"name": "Acme"}, meta=dana)

    names, mine = anyio.run(signed, SlackSigned(SECRET), dana)
    assert names == TOOLS and mine.structured_content["count"] == 24
    seen, acme = anyio.run(everything)
    for name, text in seen.items():
        assert CANARY not in text, (name, text[:400])
    assert '"blocks": [{"type": "section"' in seen["7:ask"]  # Slack gets Block Kit beside the data
    assert acme.structured_content["blocks"][0] == {"type": "header", "text": {"type": "plain_text",
                                                                              "text": "Acme Corp"}}

    _, anonymous = anyio.run(signed, SlackSigned(SECRET), None)  # signed, but no user: no data
    assert anonymous.is_error and "no verified person" in anonymous.content[0].text
    _, stranger = anyio.run(signed, SlackSigned(SECRET), {"slack": {"user_id": "UNOBODY01", "team_id": TEAM}})
    assert stranger.is_error and "No CSM called" in stranger.content[0].text

    for auth, meta in ((SlackSigned("not-the-secret"), dana), (SlackSigned(SECRET, skew_s=900), dana),
                       (SlackSigned(SECRET), {"slack": {"user_id": DANA_SLACK, "team_id": "T0OTHER01"}})):
        try:
            _, r = anyio.run(signed, auth, meta)
            refused = r.is_error and "Acme" not in str(r.structured_content)
        except Exception:  # noqa: BLE001 - the SDK raises its own transport error for the 401
            refused = True
        assert refused, (auth.secret, auth.skew_s, meta)


def test_two_people_at_once_each_see_only_their_own_book_and_cannot_continue_each_others_threads(server, run_cli):
    url, env, rt = server
    _, dana = token(env, run_cli, DANA)
    _, sam = token(env, run_cli, "sam.okafor@retain.example")
    out: dict[str, list] = {}

    async def person(name, tok, question):
        async with http_session(url, tok) as s:
            out[name] = [await s.call_tool("portfolio", {"limit": 200}) for _ in range(3)]
            out[name].append(await s.call_tool("ask", {"question": question}))

    async def both():
        async with anyio.create_task_group() as tg:  # the two sessions' calls interleave on the server
            tg.start_soon(person, "dana", dana, "how is Acme Corp doing?")
            tg.start_soon(person, "sam", sam, f"how is Zanzibar {CANARY} Holdings doing?")

    anyio.run(both)
    dana_names = {a["name"] for a in out["dana"][0].structured_content["accounts"]}
    sam_names = {a["name"] for a in out["sam"][0].structured_content["accounts"]}
    assert "Acme Corp" in dana_names and f"Zanzibar {CANARY} Holdings" in sam_names and not dana_names & sam_names
    for r in out["dana"][:3]:
        assert {a["name"] for a in r.structured_content["accounts"]} == dana_names
    for r in out["sam"][:3]:
        assert {a["name"] for a in r.structured_content["accounts"]} == sam_names
    assert CANARY in out["sam"][3].content[0].text and "Acme" not in out["sam"][3].content[0].text

    sams_thread = out["sam"][3].structured_content["thread"]

    async def follow_up():
        async with http_session(url, dana) as s:
            return await s.call_tool("ask", {"question": "and its renewal?", "thread": sams_thread})

    r = anyio.run(follow_up)
    assert r.structured_content["thread"] != sams_thread and CANARY not in str(r.structured_content)


def test_over_http_a_draft_waits_for_retain_decide_and_bad_arguments_get_one_line(server, run_cli):
    url, env, rt = server
    _, dana = token(env, run_cli, DANA)
    box = rt.settings.data_dir / "email_outbox"

    async def go():
        async with http_session(url, dana) as s:
            bad = [await s.call_tool("query", {"query": {"entity": "accounts", "sort": [{"field": "salary"}]}}),
                   await s.call_tool("metric", {"metric": "nrr", "accounts": "Acme"}),
                   await s.call_tool("portfolio", {"renewal_within_days": "soon"})]
            made = await s.call_tool("draft", {"request": "email Globex's champion about the usage review"})
            return bad, made

    bad, made = anyio.run(go)
    for r, field in zip(bad, ("salary", "accounts", "renewal_within_days"), strict=True):
        text = r.content[0].text
        assert r.is_error and field in text and "\n" not in text and "Traceback" not in text, text
    [d] = made.structured_content["pending_drafts"]
    assert (d["account"], d["status"]) == ("Globex", "pending") and not list(box.glob("*.eml"))
    code, out, err = run_cli("--as", DANA, "decide", "approve", "--thread", made.structured_content["thread"],
                             "--json", env_extra=env)
    assert code == 0 and json.loads(out)["actions"][0]["decision"] == "approve", err
    assert len(list(box.glob("*.eml"))) == 1
