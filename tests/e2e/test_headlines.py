"""What a new user reads in the first minutes states true counts, times and labels."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from agents import briefing
from agents.state import Deps
from tools import crm

OLIVIA = "olivia.grant@retain.example"


def _env(rt):
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}
    return env | ({"RETAIN_DATABASE_URL": rt.settings.database_url} if rt.settings.database_url else {})


def test_a_briefing_counts_every_account_at_risk_and_lists_the_largest(rt, run_cli):
    at_risk = crm.portfolio(rt.tool_context(OLIVIA), segment="at risk", limit=1000)["count"]
    assert at_risk > briefing.AT_RISK_SHOWN  # the demo team has more at risk than a briefing lists
    b = briefing.build(Deps(services=rt), OLIVIA)
    assert b["at_risk_count"] == at_risk and len(b["at_risk"]) == briefing.AT_RISK_SHOWN
    code, out, err = run_cli("brief", "--csm", OLIVIA, "--no-llm", env_extra=_env(rt))
    assert code == 0, err
    assert f"{at_risk} at risk" in out and f"At risk*: {at_risk}; the 5 with the most ARR:" in out
    assert f" {briefing.AT_RISK_SHOWN} at risk" not in out


def test_jobs_show_each_run_in_its_own_zone_and_in_true_utc(rt, run_cli):
    code, out, err = run_cli("jobs", "--json", env_extra=_env(rt))
    assert code == 0, err
    dana = next(j for j in json.loads(out) if j["name"].startswith("Briefing for Dana Reyes"))
    assert dana["time_zone"] == "America/New_York" and dana["next_run_local"].endswith("08:00")
    local = datetime.strptime(dana["next_run_local"], "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("America/New_York"))
    assert local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S") == dana["next_run_utc"]
    assert not dana["next_run_utc"].endswith("08:00:00")  # 08:00 in New York is never 08:00 UTC
    code, out, err = run_cli("jobs", env_extra=_env(rt))
    assert f"{dana['next_run_local']} America/New_York ({dana['next_run_utc'][11:16]} UTC)" in out


def test_accounts_says_when_it_shows_fewer_rows_than_it_counts(rt, run_cli):
    code, out, err = run_cli("accounts", env_extra=_env(rt))
    assert code == 0 and "150 accounts, showing 50 of 150" in out, err
    code, out, err = run_cli("accounts", "--limit", "500", env_extra=_env(rt))
    assert code == 0 and "150 accounts (" in out and "showing" not in out


def test_models_list_prints_words_not_markup(tmp_path, run_cli):
    code, out, err = run_cli("models", "list", env_extra={"RETAIN_MODELS_DIR": str(tmp_path)})
    assert code == 0, err
    assert "missing" in out and "[red]" not in out and "[/]" not in out and "[green]" not in out
