"""Scores once per data change, shared through the database; detectors vectorised over accounts."""

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from integrations.crm.models import Account, Activity, Meta, SlackInbox
from tools import detectors, scores
from tools.access import OPERATOR
from tools.scores import ScoreCache
from tools.services import Services

DAY0 = date(2026, 9, 25)


def _frame(aid, n, *, p95=800.0, switch=None, err=0.005, err_last7=None, spend=0.001, spend_last14=None,
           tokens=500.0, tokens_last14=None):
    days = [DAY0 + timedelta(days=60 - n + k) for k in range(n)]
    version = ["v1" if switch is None or k < switch else "v2" for k in range(n)]
    lat = np.array([p95 * (2.25 if switch is not None and k >= switch else 1.0) for k in range(n)])
    e = np.full(n, err)
    if err_last7 is not None:
        e[-7:] = err_last7
    req = np.full(n, 1000.0)
    cost = req * spend
    if spend_last14 is not None:
        cost[-14:] = req[-14:] * spend_last14
    tok = req * tokens
    if tokens_last14 is not None:
        tok[-14:] = req[-14:] * tokens_last14
    return pd.DataFrame({"account_id": aid, "day": days, "model_name": "nimbus", "model_version": version,
                         "p95_latency_ms": lat, "p50_latency_ms": lat / 2, "error_rate": e, "api_requests": req,
                         "spend": cost, "input_tokens": tok})


def test_detectors_find_each_pattern_across_accounts_at_once():
    df = pd.concat([
        _frame(1, 60, switch=40),                      # latency up 2.25x since the model switch
        _frame(2, 30, err_last7=0.06),                 # error spike in the last 7 days
        _frame(3, 10, switch=3, err_last7=0.5),        # too little history: nothing
        _frame(4, 60, spend_last14=0.002),             # cost per request doubled
        _frame(5, 60, tokens_last14=800.0),            # prompts 60% longer
        _frame(6, 60),                                 # steady
    ], ignore_index=True)
    found = detectors._telemetry_findings(df)
    kinds = {aid: [f["kind"] for f in items] for aid, items in found.items()}
    assert kinds == {1: ["latency_regression"], 2: ["error_spike"], 4: ["cost_per_request_rising"],
                     5: ["context_creep"]}
    lat = found[1][0]
    assert lat["severity"] == "high" and lat["values"]["ratio"] == 2.25
    assert lat["values"]["model_before"] == "nimbus v1" and lat["values"]["model_after"] == "nimbus v2"
    assert lat["values"]["since"] == (DAY0 + timedelta(days=40)).isoformat()
    assert "since the switch from nimbus v1 to nimbus v2" in lat["text"]
    assert found[2][0]["values"] == {"error_rate_recent": 0.06, "error_rate_before": 0.005}
    assert found[2][0]["severity"] == "high"
    assert "up 100%" in found[4][0]["text"] and found[4][0]["sources"][0]["date"] == (
        DAY0 + timedelta(days=46)).isoformat()
    assert found[5][0]["values"] == {"tokens_before": 500, "tokens_after": 800}


def test_detectors_find_the_same_in_plain_columns_as_in_a_frame(rt):
    """A briefing's detectors read rows into numpy columns (no pandas): the same findings as from a frame."""
    df = pd.concat([_frame(1, 60, switch=40), _frame(2, 30, err_last7=0.06), _frame(4, 60, spend_last14=0.002),
                    _frame(5, 60, tokens_last14=800.0), _frame(6, 60)], ignore_index=True)
    found = detectors._telemetry_findings(df)
    assert len(found) == 4
    assert detectors._telemetry_findings({c: df[c].to_numpy() for c in df.columns}) == found
    today = rt.settings.as_of()
    ids = [int(a) for a in rt.scores.get(rt.tool_context(OPERATOR)).features.index]
    t = detectors.TelemetryDaily
    stmt = (select(*[getattr(t, c) for c in detectors.TELEMETRY])
            .where(t.account_id.in_(ids), t.day > today - timedelta(days=60), t.day <= today)
            .order_by(t.account_id, t.day))
    with rt.store.engine.connect() as conn:
        frame = pd.read_sql(stmt, conn)
    rows = detectors.recent_telemetry(rt.store, ids, today)
    assert len(rows["account_id"]) == len(frame) > 0
    assert detectors._telemetry_findings(rows) == detectors._telemetry_findings(frame)


def test_one_account_and_many_give_the_same_findings(rt):
    with rt.store.session() as s:
        ids = list(s.scalars(select(Account.id).order_by(Account.id)))
    many = detectors.detect_many(rt.store, ids, rt.settings.as_of())
    assert sum(len(v) for v in many.values()) >= 2  # the demo's Globex and Umbrella stories
    for aid in ids:
        if many[aid]:
            assert detectors.detect(rt.store, aid, rt.settings.as_of()) == many[aid]
    assert detectors.detect_many(rt.store, [999_999], rt.settings.as_of()) == {999_999: []}


def _note(store, aid, body="Call went fine."):
    with store.session() as s:
        s.add(Activity(account_id=aid, kind="note", occurred_on=date(2026, 11, 23), author="test",
                       subject="note", body=body))


def test_data_version_moves_once_per_crm_write_and_never_for_operational_tables(rt):
    store = rt.store
    v0 = store.data_version()
    assert v0 >= 1
    with store.session() as s:
        aid = s.scalars(select(Account.id)).first()
        for _ in range(3):
            s.add(Activity(account_id=aid, kind="note", occurred_on=date(2026, 11, 23), author="t",
                           subject="s", body="b"))
    assert store.data_version() == v0 + 1  # one transaction, one bump
    with store.session() as s:
        s.add(SlackInbox(key="Ev1", kind="event", payload={}, status="pending", attempts=0,
                         received_at=datetime(2026, 11, 23)))
        s.merge(Meta(key="anything", value="x"))
    assert store.data_version() == v0 + 1
    with pytest.raises(RuntimeError), store.session() as s:
        s.add(Activity(account_id=aid, kind="note", occurred_on=date(2026, 11, 23), author="t", subject="s",
                       body="rolled back"))
        s.flush()
        raise RuntimeError("boom")
    assert store.data_version() == v0 + 1  # the bump rolled back with the write


def test_scores_are_computed_once_per_change_and_shared_through_the_database(rt):
    ctx = rt.tool_context(OPERATOR)
    first = ScoreCache()
    h1 = first.get(ctx)
    assert first.computed == 1
    assert first.get(ctx) is h1 and first.computed == 1

    other = ScoreCache()  # another process: reads the stored run instead of scoring
    h2 = other.get(ctx)
    assert other.computed == 0
    pd.testing.assert_frame_equal(h1.frame(), h2.frame())

    aid = int(h1.features.index[0])
    _note(rt.store, aid, "They are frustrated and unhappy about outages and errors.")
    h3 = other.get(ctx)
    assert other.computed == 1  # the data changed: scored again
    assert h3.features.loc[aid, "note_tone"] < h1.features.loc[aid, "note_tone"]
    third = ScoreCache()
    assert third.get(ctx).features.loc[aid, "note_tone"] == h3.features.loc[aid, "note_tone"]
    assert third.computed == 0

    yesterday = ctx.as_of - timedelta(days=1)
    other.get(ctx, yesterday)
    _note(rt.store, aid)
    late = ScoreCache()
    late.get(ctx, yesterday)  # a past day is history: the stored run serves whatever changed since
    assert late.computed == 0
    assert scores.clear(rt.store) >= 2
    late.get(ctx, yesterday)
    assert late.computed == 0  # still in this process's memory
    assert ScoreCache().get(ctx, yesterday) is not None


def test_scores_command_reports_stored_or_computed(run_cli, rt):
    import json

    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir)}

    def scores_json(*flags):
        code, out, err = run_cli("scores", *flags, "--json", env_extra=env)
        assert code == 0, err
        return json.loads(out)

    first = scores_json()
    assert first["computed"] is True and first["accounts"] > 100
    assert sum(first["bands"].values()) == first["accounts"]
    again = scores_json()  # a new invocation reads what the first one stored
    assert again["computed"] is False and again["bands"] == first["bands"]
    fresh = scores_json("--refresh")
    assert fresh["computed"] is True and fresh["cleared"] >= 1


def test_after_prewarm_a_vague_first_question_runs_no_detectors_and_finds_the_same(rt):
    from agents.assistant import Assistant
    from integrations.crm.models import CSM

    with rt.store.session() as s:
        who = s.scalars(select(CSM.email).where(CSM.role == "csm").order_by(CSM.email)).first()
    rt.prewarm()
    ran = rt.scores.detections
    assert ran >= 100  # every scored account, before anyone asks
    warm = Assistant(rt, use_memory=False).ask("anything I should worry about today?", who, "t1")
    assert rt.scores.detections == ran  # the first vague question found everything already detected
    cold = Services(rt.settings)  # a process that did not warm up detects on demand, with the same answer
    again = Assistant(cold, use_memory=False).ask("anything I should worry about today?", who, "t2")
    assert cold.scores.detections > 0
    assert again["answer"]["text"] == warm["answer"]["text"]
