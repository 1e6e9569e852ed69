"""Tones are stored per text: a rescore computes only texts it has not seen, with the same features."""

from datetime import date

import pandas as pd
from sqlalchemy import delete, func, select

from integrations.crm.models import Account, Activity, TextSentiment
from tools import sentiment, tones
from tools.features import compute_features

TODAY = date(2026, 11, 23)


def _fresh_process_memory() -> None:
    """Forget this process's memoised tones, as a new process (another worker, the next CLI run) would."""
    sentiment.score.cache_clear()


def test_a_rescore_after_one_new_note_computes_one_tone_and_the_same_features(rt):
    compute_features(rt.store, TODAY)  # the first score stores every text's tone
    with rt.store.session() as s:
        acme = s.scalars(select(Account.id).where(Account.name == "Acme Corp")).one()
        s.add(Activity(account_id=acme, kind="note", occurred_on=TODAY, author="dana", subject="call",
                       body="They are evaluating a competitor after the outage; renewal looks shaky."))
    _fresh_process_memory()
    before = tones.Counts.computed
    rescored = compute_features(rt.store, TODAY)
    assert tones.Counts.computed - before == 1

    with rt.store.session() as s:  # the same features as when every tone is computed afresh
        stored = s.scalar(select(func.count()).select_from(TextSentiment))
        s.execute(delete(TextSentiment))
    _fresh_process_memory()
    before = tones.Counts.computed
    afresh = compute_features(rt.store, TODAY)
    assert tones.Counts.computed - before == stored > 1
    pd.testing.assert_frame_equal(rescored, afresh)
    assert rescored.loc[acme, "tone_turn_on"] == TODAY  # the new note is where Acme's tone turned


def test_stored_tones_are_plain_numbers_reused_only_under_the_same_sentiment_version(rt, monkeypatch):
    texts = ["The outage cost them a week.", "Great QBR, they want to expand.", "The outage cost them a week."]
    _fresh_process_memory()
    before = tones.Counts.computed
    assert tones.tones(rt.store, texts) == [sentiment.score(t) for t in texts]
    assert tones.Counts.computed - before == 2  # two distinct texts
    with rt.store.session() as s:
        row = s.scalars(select(TextSentiment).where(TextSentiment.version == sentiment.version())).first()
        assert row is not None and isinstance(row.tone, float) and len(row.key) == 40
    tones.tones(rt.store, texts)
    assert tones.Counts.computed - before == 2  # read back, not computed
    monkeypatch.setattr(sentiment, "version", lambda: "another lexicon")
    tones.tones(rt.store, texts)
    assert tones.Counts.computed - before == 4  # a changed lexicon computes afresh
