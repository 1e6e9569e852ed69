import pytest

from core.errors import AccessDenied, AmbiguousName, NotFoundError
from tools import crm
from tools.agent_tools import build_tools


def ctx(rt, who=None):
    return rt.tool_context(who)


def test_own_team_all_and_denied(rt):
    dana = ctx(rt, "dana.reyes@retain.example")  # East CSM, owns Acme Corp
    marcus = ctx(rt, "Marcus Chen")  # East CSM
    olivia = ctx(rt, "olivia.grant@retain.example")  # East manager
    noah = ctx(rt, "Noah Kim")  # West manager
    admin = ctx(rt)
    assert crm.find_account(dana, "Acme Corp")["name"] == "Acme Corp"
    with pytest.raises(AccessDenied, match="not in your portfolio"):
        crm.find_account(marcus, "Acme Corp")
    with pytest.raises(AccessDenied):
        crm.health_breakdown(marcus, crm.find_account(admin, "Acme Corp")["account_id"])
    assert crm.find_account(olivia, "Acme Corp")["name"] == "Acme Corp"
    assert crm.find_account(olivia, "Wayne Media")["name"] == "Wayne Media"
    with pytest.raises(AccessDenied):
        crm.find_account(olivia, "Hooli")  # West
    assert crm.find_account(noah, "Hooli")["name"] == "Hooli"
    assert crm.find_account(admin, "Hooli")["name"] == "Hooli"

    def owners(c):
        return {a["owner"] for a in crm.portfolio(c)["accounts"]}

    assert owners(dana) == {"Dana Reyes"}
    assert owners(olivia) == {"Dana Reyes", "Marcus Chen", "Priya Patel"}
    assert len(owners(admin)) == 6
    assert crm.portfolio(admin)["count"] == 150


def test_fuzzy_match_typos_and_ambiguity(rt):
    admin = ctx(rt)
    assert crm.find_account(admin, "globx")["name"] == "Globex"
    assert crm.find_account(admin, "cyberdyne")["name"] == "Cyberdyne Systems"
    with pytest.raises(AmbiguousName) as err:
        crm.find_account(admin, "Vandelay")
    assert set(err.value.candidates) == {"Vandelay Imports", "Vandelay Industries"}
    with pytest.raises(NotFoundError):
        crm.find_account(admin, "Zzyzx Quux")
    # Priya sees only Vandelay Imports: for her the name is not ambiguous.
    assert crm.find_account(ctx(rt, "Priya Patel"), "Vandelay")["name"] == "Vandelay Imports"


def test_a_name_matches_on_its_distinctive_words_never_on_a_generic_suffix(rt, run_cli):
    admin, dana = ctx(rt), ctx(rt, "dana.reyes@retain.example")
    for typed in ("Nonexistent Corp", "Corp", "Nonexistent Labs Inc", "Imaginary Health"):
        with pytest.raises(NotFoundError, match="No account matches") as err:
            crm.find_account(admin, typed)
        assert "Closest:" in str(err.value) or not crm.name_match.distinctive(typed)
    assert crm.find_account(admin, "Umbrella")["name"] == "Umbrella Corp"
    assert crm.find_account(admin, "Acme Crop")["name"] == "Acme Corp"  # a typo in the suffix is fine
    assert crm.find_account(admin, "umbrela corp")["name"] == "Umbrella Corp"
    # The closest names offered are only ones the asker may see.
    with pytest.raises(NotFoundError) as err:
        crm.find_account(dana, "Zebra Widgets Inc")
    offered = str(err.value).split("Closest: ")[1].split(".")[0].split(", ")
    mine = {a["name"] for a in crm.portfolio(dana, limit=500)["accounts"]}
    assert offered and set(offered) <= mine
    # The CLI: one clear line, exit 2, and never another account's card.
    code, out, err = run_cli("account", "Nonexistent Corp", env_extra={"RETAIN_DATA_DIR": str(rt.settings.data_dir)})
    assert code == 2 and "No account matches 'Nonexistent Corp'" in err and "Closest:" in err
    assert "Acme" not in out and "Traceback" not in err and len(err.strip().splitlines()) == 1


def texts(items):
    return " | ".join(i["text"] for i in items)


def test_story_arcs_show_their_drivers(rt):
    admin = ctx(rt)
    aid = {n: crm.find_account(admin, n)["account_id"] for n in
           ["Acme Corp", "Globex", "Initech", "Cyberdyne Systems", "Wayne Media", "Umbrella Corp", "Hooli"]}

    wayne = crm.health_breakdown(admin, aid["Wayne Media"])
    assert "champion Jordan Blake left on 2026-10-09" in texts(wayne["drivers"])
    assert "usage down 38% in 30 days" in texts(wayne["drivers"])

    globex = crm.model_performance(admin, aid["Globex"])
    lat = next(f for f in globex["findings"] if f["kind"] == "latency_regression")
    assert lat["values"]["ratio"] >= 2.0 and lat["values"]["model_after"] == "nimbus-large v4.0"
    assert lat["values"]["since"] == "2026-11-02"

    cy = crm.onboarding_status(admin, aid["Cyberdyne Systems"])
    assert cy["overdue"][0]["name"] == "SSO / SCIM setup" and cy["overdue"][0]["status"] == "blocked"
    assert cy["overdue"][0]["days_overdue"] >= 35
    assert any("Okta" in t["subject"] for t in crm.list_tickets(admin, aid["Cyberdyne Systems"])["tickets"])

    ini = crm.renewal_outlook(admin, aid["Initech"])
    assert ini["days_to_renewal"] == 21 and ini["segment"] == "at risk"
    assert "NPS 3 (detractor)" in texts(ini["risk_drivers"])

    umb = crm.model_performance(admin, aid["Umbrella Corp"])
    ft = next(f for f in umb["findings"] if f["kind"] == "finetune_divergence")
    assert ft["values"]["lr_factor"] == 10.0 and "NaN" in ft["text"]

    hooli = crm.renewal_outlook(admin, aid["Hooli"])
    assert hooli["segment"] == "growth potential" and "seats in use" in hooli["segment_reason"]

    acme = crm.health_breakdown(admin, aid["Acme Corp"])
    assert acme["band"] == "green" and acme["score"] >= 90 and not acme["drivers"]


def test_every_result_carries_sources(rt):
    admin = ctx(rt)
    aid = crm.find_account(admin, "Initech")["account_id"]
    for fn in (crm.account_overview, crm.health_breakdown, crm.renewal_outlook, crm.list_tickets,
               crm.nps_summary, crm.usage_trend, crm.model_performance):
        out = fn(admin, aid)
        assert out["sources"], fn.__name__
        assert all({"type", "id", "date", "label"} <= set(s) for s in out["sources"])


def test_langchain_tools_have_schemas_and_enforce_access(rt):
    tools = {t.name: t for t in build_tools(ctx(rt, "Marcus Chen"))}
    assert set(tools) >= {"find_account", "portfolio", "renewal_outlook", "health_breakdown"}
    assert "account_id" in tools["renewal_outlook"].args
    assert tools["find_account"].invoke({"name": "Wayne Media"})["name"] == "Wayne Media"
    with pytest.raises(AccessDenied):
        tools["find_account"].invoke({"name": "Acme Corp"})
    rows = tools["portfolio"].invoke({"band": "red"})["accounts"]
    assert rows and all(r["owner"] == "Marcus Chen" for r in rows)
