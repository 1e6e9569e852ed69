"""Scores read per account without pandas (tools.score_view) are the frames' scores, value for value."""

import math
from datetime import date

import numpy as np
from sqlalchemy import select

from integrations.crm.models import ScoreRun
from tools import crm, scores
from tools.access import OPERATOR
from tools.health import PortfolioHealth, drivers, score
from tools.score_view import ArrowView, FrameView
from tools.scores import ScoreCache


def _same(a, b) -> bool:
    """Equal as a frame cell: both gaps of the same kind (NaN or None), or equal values of the same kind."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b and isinstance(a, str | date) == isinstance(b, str | date) and \
        isinstance(a, float | np.floating) == isinstance(b, float | np.floating)


def _stored(rt) -> list[tuple[ArrowView, PortfolioHealth]]:
    """Each stored run of the demo read both ways: plain rows (pyarrow alone) and frames (`from_arrow`)."""
    rt.scores.get(rt.tool_context(OPERATOR))  # today's run is stored
    with rt.store.session() as s:
        runs = s.scalars(select(ScoreRun)).all()
        raw = [(r.day, r.payload, r.previous) for r in runs]
    out = []
    for day, payload, previous in raw:
        features = scores.from_arrow(payload)
        health = PortfolioHealth(as_of=day, card=rt.card, features=features, table=score(rt.card, features),
                                 previous=scores.from_arrow(previous)["score"].rename(None))
        out.append((ArrowView(rt.card, scores.read_table(payload), scores.read_table(previous)), health))
    return out


def test_plain_rows_give_every_demo_accounts_features_scores_and_drivers_as_the_frames_do(rt):
    runs = _stored(rt)
    assert runs
    for view, h in runs:
        f, t = h.features, h.table
        assert view.ids == [int(a) for a in f.index] and len(view.ids) == 150
        frames = FrameView(h)
        for aid in view.ids:
            row, frow = view.row(aid), f.loc[aid]
            assert list(row) == list(f.columns)
            bad = [c for c in f.columns if not _same(row[c], frow[c]) or not _same(view.value(aid, c), frow[c])]
            assert not bad, (aid, {c: (row[c], frow[c]) for c in bad})
            for v in (view, frames):
                assert v.score(aid) == float(t.score[aid]) and v.band(aid) == t.band[aid]
                for c in rt.card.components:
                    assert _same(v.component(aid, c), float(t.components.loc[aid, c]))
                    assert _same(v.contribution(aid, c), float(t.contributions.loc[aid, c]))
                assert _same(v.previous(aid), float(h.previous.get(aid, math.nan)))
                assert v.drivers(aid) == drivers(rt.card, t, f, aid)
        assert any(view.drivers(a)["negative"] for a in view.ids)  # the comparison covers drivers in words


def test_a_health_breakdown_reads_the_stored_run_without_frames_and_matches_the_frames(rt):
    ctx = rt.tool_context(OPERATOR)
    rt.scores.get(ctx)
    cold = rt.tool_context(OPERATOR)
    cold.scores = ScoreCache()  # a new process: nothing in memory, the stored run only
    warm = rt.tool_context(OPERATOR)
    warm.prime(rt.scores.get(ctx))
    for aid in cold.view().ids[:40]:
        assert crm.health_breakdown(cold, aid) == crm.health_breakdown(warm, aid)
    assert isinstance(cold.view(), ArrowView) and isinstance(warm.view(), FrameView)
    assert cold.scores.computed == 0


def test_segments_renewal_outlooks_and_briefings_read_from_plain_rows_match_the_frames(rt):
    """What a vague question reads (segments, P(renew), renewal outlooks, the briefing) is the same either way."""
    from agents import briefing
    from agents.state import Deps
    from tools.services import Services

    rt.prewarm()  # today's and yesterday's runs stored
    warm = rt.tool_context(OPERATOR)
    warm.prime(rt.scores.get(warm))
    cold = rt.tool_context(OPERATOR)
    cold.scores = ScoreCache()  # a new process: the stored runs only
    assert crm.segments(cold) == crm.segments(warm)
    segs = crm.segments(warm)
    assert len({s["segment"] for s in segs.values()}) == 4  # every rule is exercised
    for aid in cold.view().ids:
        assert crm.renewal_outlook(cold, aid) == crm.renewal_outlook(warm, aid)
        assert crm.account_overview(cold, aid) == crm.account_overview(warm, aid)
    assert rt.model_file.exists() and crm.renewal_outlook(cold, cold.view().ids[0])["p_renew"] is not None
    fresh = Services(rt.settings)  # another process over the same store: nothing scored in memory
    for who in ("olivia.grant@retain.example", OPERATOR):
        assert briefing.build(Deps(services=fresh), who) == briefing.build(Deps(services=rt), who)
    assert fresh.scores.computed == 0 and isinstance(fresh.tool_context(OPERATOR).view(), ArrowView)
