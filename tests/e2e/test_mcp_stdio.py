"""`retain --as PERSON mcp` spawned as a real process on the seeded demo, driven by the MCP SDK's own stdio client."""

import json
from pathlib import Path

import anyio
from mcp_rig import CANARY, DANA, TOOLS, blob, every_tool, plant_canary, server_env, stdio_session
from sqlalchemy import func, select

from integrations.crm.models import ActionLog, Activity, Outbox


def _env(rt, **extra):
    return server_env(str(rt.settings.data_dir), rt.settings.database_url, **extra)


def _cli_env(rt):
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}
    if rt.settings.database_url:
        env["RETAIN_DATABASE_URL"] = rt.settings.database_url
    return env


def _one_line_error(result):
    text = result.content[0].text
    assert result.is_error, text
    assert "Traceback" not in text and 'File "' not in text and "\n" not in text.strip(), text
    return text


def test_tools_are_listed_with_schemas_and_no_operator_tool_exists(rt):
    async def go():
        async with stdio_session(_env(rt), "--as", DANA) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            templates = [t.uri_template for t in (await s.list_resource_templates()).resource_templates]
            return tools, templates

    tools, templates = anyio.run(go)
    assert set(tools) == TOOLS  # no imports, people, jobs, tokens, syncs: operator work stays on the command line
    for t in tools.values():
        assert t.description and t.input_schema["type"] == "object", t.name
    assert tools["ask"].input_schema["required"] == ["question"]
    query = json.dumps(tools["query"].input_schema)
    assert '"renewals"' in query and '"between"' in query and "group_by" in query
    assert "days_to_renewal" in tools["query"].description  # the field catalogue a model chooses from
    assert set(tools["metric"].input_schema["properties"]["metric"]["enum"]) >= {"nrr", "grr", "nps"}
    assert tools["portfolio"].annotations.read_only_hint and not tools["draft"].annotations.destructive_hint
    assert set(templates) == {"retain://account/{name}", "retain://briefing/{person}"}


def test_a_csm_sees_only_her_accounts_and_the_canary_in_another_book_never_appears(rt):
    plant_canary(rt.store)

    async def go():
        async with stdio_session(_env(rt), "--as", DANA) as s:
            seen = await every_tool(s)
            card = await s.read_resource("retain://account/Acme%20Corp")
            try:
                await s.read_resource("retain://account/Zanzibar")
                leaked = "read"
            except Exception as exc:  # the SDK raises the server's resource error
                leaked = str(exc)
            return seen, blob(card), leaked

    seen, card, refused = anyio.run(go)
    for name, text in seen.items():
        assert CANARY not in text, (name, text[:400])
    assert "Acme Corp" in seen["0:portfolio"] and "Initech" in seen["0:portfolio"]  # her own book is there
    assert '"total": 24' in seen["1:query"] and "Zanzibar" not in seen["1:query"]
    assert "Dana Reyes" in seen["3:query"] and "Sam Okafor" not in seen["3:query"]  # groups of her book only
    assert "not in your portfolio" in seen["6:account"]
    assert "Acme Corp" in card and '"health"' in card
    assert "not in your portfolio" in refused and CANARY not in refused
    assert "Briefing for Dana Reyes" in seen["briefing"]


def _counts(rt):
    with rt.store.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (ActionLog, Activity, Outbox))


def _outbox_files(rt):
    box = Path(rt.settings.data_dir) / "email_outbox"
    return sorted(box.glob("*.eml")) if box.exists() else []


def test_draft_is_pending_until_retain_decide_approves_it_and_nothing_is_sent_before(rt, run_cli):
    before = _counts(rt)

    async def go():
        async with stdio_session(_env(rt), "--as", DANA) as s:
            r = await s.call_tool("draft", {"request": "email Acme's champion proposing a call next week about "
                                                       "two more teams"})
            again = await s.call_tool("ask", {"question": "draft a note to Initech's champion about onboarding"})
            return r, again

    r, again = anyio.run(go)
    assert not r.is_error, r.content[0].text
    data = r.structured_content
    [d] = data["pending_drafts"]
    assert (d["account"], d["draft_kind"], d["status"]) == ("Acme Corp", "email", "pending")
    assert "Nothing was sent" in r.content[0].text and data["thread"] in r.content[0].text
    assert again.structured_content["pending_drafts"][0]["account"] == "Initech"  # ask drafts too, pending only
    assert _counts(rt) == before and not _outbox_files(rt)  # nothing ran, nothing was written to send

    env = _cli_env(rt)
    code, out, err = run_cli("--as", "marcus.chen@retain.example", "decide", "approve", "--thread", data["thread"],
                             env_extra=env)
    assert code == 2 and "don't own" in err and _counts(rt) == before  # only its owner, her manager or an admin
    code, out, err = run_cli("--as", DANA, "decide", "approve", "--thread", data["thread"], "--json", env_extra=env)
    assert code == 0, err
    [done] = json.loads(out)["actions"]
    assert done["decision"] == "approve" and done["sent_via"] == "email_outbox"
    assert len(_outbox_files(rt)) == 1 and "two more teams" in _outbox_files(rt)[0].read_text()


def test_malformed_arguments_get_one_clear_tool_error_never_a_traceback(rt):
    cases = [
        ("query", {"query": {"entity": "invoices"}}, "query.entity"),
        ("query", {"query": {"entity": "accounts", "fields": ["salary"]}}, "no field 'salary'"),
        ("query", {"query": {"entity": "accounts", "limit": 0}}, "query.limit"),
        ("query", {"query": {"entity": "accounts", "filters": [{"field": "arr", "op": "gt", "value": "lots"}]}},
         "arr is a number: 'lots' is not one"),
        ("query", {"query": {"entity": "tickets", "filters": [{"field": "opened_at", "op": "ge", "value": "soon"}]}},
         "opened_at is a date"),
        ("query", {"query": {"entity": "renewals", "filters": [{"field": "renewal_date", "op": "between",
                                                                "value": "2026-01-01"}]}}, "list of two"),
        ("query", {}, "query: Field required"),
        ("account", {"name": 42}, "name"),
        ("account", {"name": "Nonexistent Widget Co"}, "No account matches"),
        ("metric", {"metric": "happiness"}, "metric"),
        ("metric", {"metric": "nrr", "start": "2026-13-45"}, "start"),
        ("metric", {"metric": "nrr", "start": "2026-11-01", "end": "2026-01-01"}, "after end"),
        ("portfolio", {"limit": -1}, "limit"),
        ("portfolio", {"band": "purple"}, "band"),
        ("ask", {"question": ""}, "question"),
        ("draft", {"request": "how is Acme doing?"}, "no draft was made"),
        ("no_such_tool", {}, "no_such_tool"),
    ]

    async def go():
        async with stdio_session(_env(rt), "--as", DANA) as s:
            out = [(name, expected, await s.call_tool(name, args)) for name, args, expected in cases]
            out.append(("portfolio", "24 accounts", await s.call_tool("portfolio", {})))  # still serving after them
            return out

    results = anyio.run(go)
    for name, expected, result in results[:-1]:
        text = _one_line_error(result)
        assert expected in text, (name, text)
    assert not results[-1][2].is_error and "24 accounts" in results[-1][2].content[0].text


def test_calls_over_the_rate_limit_are_refused_with_when_to_retry(rt):
    async def go():
        async with stdio_session(_env(rt, RETAIN_MCP__BURST="2", RETAIN_MCP__CALLS_PER_HOUR="1"), "--as", DANA) as s:
            return [await s.call_tool("portfolio", {"limit": 1}) for _ in range(3)]

    first, second, third = anyio.run(go)
    assert not first.is_error and not second.is_error
    text = _one_line_error(third)
    assert "Rate limit" in text and "mcp.calls_per_hour" in text


def test_stdio_needs_a_person_and_refuses_an_unknown_one(rt, run_cli):
    env = _cli_env(rt)
    code, out, err = run_cli("mcp", env_extra=env)
    assert code == 2 and "--as EMAIL" in err and "Traceback" not in err
    code, out, err = run_cli("--as", "nobody@x.example", "mcp", env_extra=env)
    assert code == 2 and "No CSM called" in err
    code, out, err = run_cli("--as", DANA, "mcp", "tokens", "list", env_extra=env)
    assert code == 2 and "needs an admin" in err  # tokens are operator work, even for the MCP group
