import math

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError
from tools.features import METRICS
from tools.health import Scorecard, load_scorecard, score

CARD = Scorecard.model_validate({
    "bands": {"green": 70, "yellow": 40},
    "components": {
        "usage": {"label": "Usage", "weight": 60, "signals": [
            {"metric": "usage_change_30d", "bad": -0.4, "good": 0.1}]},
        "people": {"label": "People", "weight": 40, "signals": [
            {"metric": "champion_present", "bad": 0, "good": 1, "weight": 3},
            {"metric": "days_since_touch", "bad": 60, "good": 10, "weight": 1}]},
    },
})


def frame(**cols):
    base = {m: [math.nan] for m in METRICS}
    base.update({k: [v] for k, v in cols.items()})
    return pd.DataFrame(base, index=[1])


def test_hand_computed_score():
    # usage: (-0.15 - -0.4) / 0.5 = 0.5; people: (3*1 + 1*(60-35)/50) / 4 = 0.875
    # total = (60*0.5 + 40*0.875) = 65.0 -> yellow
    t = score(CARD, frame(usage_change_30d=-0.15, champion_present=1.0, days_since_touch=35))
    assert t.score[1] == pytest.approx(65.0)
    assert t.band[1] == "yellow"
    assert t.contributions.loc[1, "usage"] == pytest.approx(30.0)
    assert t.contributions.loc[1, "people"] == pytest.approx(35.0)


def test_clipping_and_bands():
    good = score(CARD, frame(usage_change_30d=0.9, champion_present=1.0, days_since_touch=1))
    bad = score(CARD, frame(usage_change_30d=-0.9, champion_present=0.0, days_since_touch=200))
    assert good.score[1] == 100.0 and good.band[1] == "green"
    assert bad.score[1] == 0.0 and bad.band[1] == "red"


def test_missing_component_is_left_out_and_weights_renormalised():
    # Only the people component has data: score = 100 * people value.
    t = score(CARD, frame(champion_present=0.0, days_since_touch=10))
    assert t.score[1] == pytest.approx(100 * (0 * 3 + 1 * 1) / 4)
    assert np.isnan(t.components.loc[1, "usage"])


def test_lost_points_name_the_costly_signal():
    t = score(CARD, frame(usage_change_30d=0.1, champion_present=0.0, days_since_touch=10))
    assert t.lost[("people", "champion_present")][0] == pytest.approx(40 * 0.75)
    assert t.lost[("usage", "usage_change_30d")][0] == pytest.approx(0.0)


def test_shipped_scorecard_loads_and_bad_one_is_refused(tmp_path):
    from configs import CONFIG_DIR

    assert load_scorecard(CONFIG_DIR / "health.yaml").components
    bad = tmp_path / "h.yaml"
    bad.write_text("bands: {green: 70, yellow: 40}\ncomponents:\n  x: {label: X, weight: 1, "
                   "signals: [{metric: vibes, bad: 0, good: 1}]}\n")
    with pytest.raises(ConfigError, match="vibes"):
        load_scorecard(bad)
