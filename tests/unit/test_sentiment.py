"""The sentiment model: measured on labelled CSM text, and used by the scorecard's drivers with sources."""

from pathlib import Path

import yaml

from tools import crm, sentiment

LABELLED = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "sentiment.yaml").read_text())


def test_on_held_out_sentences_it_beats_the_word_list_it_replaced():
    import bench.sentiment as b

    held = {name: m["held"] for name, m in b.run()["models"].items()}
    new, old = held["Retain (VADER + CS lexicon)"], held["word list (before)"]
    assert len([r for r in LABELLED if r["split"] == "held"]) >= 60
    assert new["accuracy"] >= 0.75 and new["accuracy"] > old["accuracy"] + 0.2
    assert new["negative_auc"] > old["negative_auc"]


def test_it_reads_the_trade_and_not_its_job_titles():
    assert sentiment.label("They are evaluating alternatives after the outage.") == "neg"
    assert sentiment.label("Usage is not growing and the team is not happy.") == "neg"  # negation
    assert sentiment.label("Signed off the expansion, ahead of plan.") == "pos"
    for neutral in ("Met the champion and the support lead.", "Procurement sent the PO.", "Please share the deck."):
        assert sentiment.label(neutral) == "neu", neutral
    assert sentiment.score("") == 0.0


def test_the_drivers_say_where_the_tone_turned_and_cite_that_record(rt):
    ctx = rt.tool_context("avery.stone@retain.example")
    wayne = crm.find_account(ctx, "Wayne Media")["account_id"]
    h = crm.health_breakdown(ctx, wayne)
    tone = next(d for d in h["drivers"] if d["metric"] == "note_tone")
    assert tone["text"].startswith("tone turned negative after a note on 2026-11-03: “No reply")
    assert any(s["type"] == "activity" and s["date"] == "2026-11-03" for s in h["sources"])
    initech = crm.find_account(ctx, "Initech")["account_id"]
    tone = next(d for d in crm.health_breakdown(ctx, initech)["drivers"] if d["metric"] == "note_tone")
    assert "a ticket on 2026-10-29" in tone["text"] and "Outage" in tone["text"]



def test_complaints_are_tagged_with_what_they_are_about_by_embedding():
    from models_dir import MINILM, model

    from integrations.embeddings import LlamaCppEmbedding

    ef = LlamaCppEmbedding(str(model(MINILM)))
    held = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "aspects.yaml").read_text())
    got = sentiment.aspects([h["text"] for h in held], ef)
    right = sum((g or "other") == h["aspect"] for g, h in zip(got, held, strict=True))
    assert right / len(held) >= 0.8  # 22 of 24 when written
    examples = {t for v in sentiment.aspect_examples().values() for t in v}
    assert not examples & {h["text"] for h in held}  # measured on sentences it was not given
