import pytest
from sqlalchemy import delete

from integrations.crm.models import RenewalEvent
from tools import renewal_model


def test_model_beats_scorecard_on_held_out_backtest(rt):
    m = renewal_model.fit(rt.store, rt.card)
    assert m.metrics["n_test"] >= 50
    assert m.metrics["auc"] > m.metrics["scorecard_auc"]
    assert m.metrics["brier"] < 0.15
    assert sum(r["n"] for r in m.metrics["calibration"]) == m.metrics["n_test"]
    # The generator's truth: usage growth, champions, NPS and seats help; errors hurt.
    assert m.coefficients["usage_change_30d"] > 0 and m.coefficients["champion_present"] > 0
    assert m.coefficients["error_rate"] < 0


def test_saved_model_round_trips(rt, tmp_path):
    m = renewal_model.fit(rt.store, rt.card)
    renewal_model.save(m, tmp_path / "m.json")
    again = renewal_model.load(tmp_path / "m.json")
    h = rt.tool_context().health()
    assert again.predict(h.features) == pytest.approx(m.predict(h.features))


def test_thin_history_says_so(rt):
    with rt.store.session() as s:
        ids = [r.id for r in s.query(RenewalEvent).limit(200)]
        s.execute(delete(RenewalEvent).where(RenewalEvent.id.in_(ids)))
    with pytest.raises(renewal_model.ThinHistory, match="scorecard alone is used"):
        renewal_model.fit(rt.store, rt.card)
