"""Sentiment: Retain's model against the word list it replaced and plain VADER, on labelled CSM text.

tests/data/sentiment.yaml: 120 CSM-style sentences (notes, ticket text, survey comments), 40 each
positive / neutral / negative, split dev / held. The customer-success lexicon was chosen on dev;
held was not looked at while choosing it. Reports accuracy, macro-F1 and the AUC of telling
negative text from the rest, per split, and writes bench/sentiment.json.

    uv run python -m bench.sentiment [--json] [--accounts N]

Then a scorecard backtest on a generated portfolio, whose accounts each have a latent health that
drives their telemetry, tickets, surveys and the words of their notes: how well the tone signal,
and the whole health score, rank the accounts that are truly at risk (the worst quarter of latent
health), with the old word list and with Retain's sentiment, everything else equal (ROC AUC).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.metrics import f1_score, roc_auc_score
from sqlalchemy import select
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bench.report import report
from core.settings import load_settings
from integrations.crm.models import Account
from retain import demo
from tools import features as feats
from tools import health, sentiment
from tools.services import Services

ROOT = Path(__file__).resolve().parents[1]
# The word list Retain scored note tone with before (tools/features.py until this change).
_POS = re.compile(r"\b(happy|great|love|momentum|expand|expansion|smooth|reference|thrilled|"
                  r"good|fast|saved|win|wins)\b", re.I)
_NEG = re.compile(r"\b(frustrat\w*|unhappy|slow|errors?|outages?|blocked|escalat\w*|churn|"
                  r"cancel\w*|alternatives?|questioning|annoyed|dropping|failing|failed|"
                  r"on hold|leaving|tough|no reply)\b", re.I)


def word_list(text: str) -> float:
    """The old tone: (positive words - negative words) / all matched words."""
    pos, neg = len(_POS.findall(text)), len(_NEG.findall(text))
    return 0.0 if pos + neg == 0 else (pos - neg) / (pos + neg)


_plain = SentimentIntensityAnalyzer()
MODELS = {
    "word list (before)": (word_list, 0.01),
    "VADER, no CS lexicon": (lambda t: _plain.polarity_scores(t)["compound"], 0.05),
    "Retain (VADER + CS lexicon)": (sentiment.score, sentiment.NEUTRAL),
}


def _label(s: float, cut: float) -> str:
    return "pos" if s >= cut else "neg" if s <= -cut else "neu"


def run() -> dict[str, Any]:
    """Every model on every split."""
    rows = yaml.safe_load((ROOT / "tests" / "data" / "sentiment.yaml").read_text())
    out: dict[str, Any] = {"sentences": len(rows), "models": {}}
    for name, (fn, cut) in MODELS.items():
        per: dict[str, Any] = {}
        for split in ("dev", "held"):
            part = [r for r in rows if r["split"] == split]
            scores = np.array([fn(r["text"]) for r in part])
            truth = [r["label"] for r in part]
            pred = [_label(s, cut) for s in scores]
            hits = [p == t for p, t in zip(pred, truth, strict=True)]
            per[split] = {"n": len(part), "accuracy": round(float(np.mean(hits)), 3),
                          "macro_f1": round(float(f1_score(truth, pred, average="macro")), 3),
                          "negative_auc": round(float(roc_auc_score([t == "neg" for t in truth], -scores)), 3)}
        out["models"][name] = per
    return out


def backtest(n_accounts: int = 1000, seed: int = 7) -> dict[str, Any]:
    """Tone and health-score AUC for the truly at-risk accounts, word list vs Retain's sentiment."""
    anchor = date(2026, 11, 23)
    with tempfile.TemporaryDirectory() as d:
        rt = Services(load_settings(data_dir=d, today=anchor.isoformat()))
        pf = demo.generate(n_accounts, seed, anchor)
        demo.write(rt.store, pf)
        with rt.store.session() as s:
            names = dict(s.execute(select(Account.id, Account.name)).all())
        out: dict[str, Any] = {"accounts": len(names), "seed": seed, "at_risk": "worst quarter of latent health"}
        scored = {}
        for label, fn in (("word list (before)", word_list), ("Retain (VADER + CS lexicon)", sentiment.score)):
            original = feats.tones
            feats.tones = lambda _store, texts, fn=fn: [fn(t) for t in texts]  # type: ignore[misc]
            try:
                f = feats.compute_features(rt.store, anchor)
            finally:
                feats.tones = original  # type: ignore[assignment]
            scored[label] = (f, health.score(rt.card, f).score)
        rt.store.engine.dispose()
    some = next(iter(scored.values()))[0]
    h = np.array([pf.latent[names[i]] for i in some.index])
    risk = h <= np.quantile(h, 0.25)
    out["accounts"] = len(h)  # scored (churned accounts are not)
    for label, (f, total) in scored.items():
        tone = f["note_tone"].to_numpy(dtype=float)
        ok = ~np.isnan(tone)
        out[label] = {"tone_auc": round(float(roc_auc_score(risk[ok], -tone[ok])), 3),
                      "health_auc": round(float(roc_auc_score(risk, -total.reindex(f.index).to_numpy())), 3),
                      "accounts_with_tone": int(ok.sum())}
    return out


def main() -> None:
    """Print the figures (and keep them in bench/sentiment.json)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--json", action="store_true")
    p.add_argument("--accounts", type=int, default=1000)
    a, _ = p.parse_known_args()
    r = run()
    r["backtest"] = backtest(a.accounts)
    (ROOT / "bench" / "sentiment.json").write_text(json.dumps(r, indent=1) + "\n")
    rows = [(f"{name}: {split}", " / ".join(f"{m[split][k]:.3f}" for k in ("accuracy", "macro_f1", "negative_auc")),
             "") for name, m in r["models"].items() for split in ("held", "dev")]
    report(r, a.json, f"Sentiment on {r['sentences']} labelled CSM sentences (accuracy / macro-F1 / negative AUC)",
           rows, first="model: split")
    b = r["backtest"]
    if a.json:
        return
    report(b, False, f"Scorecard backtest on {b['accounts']:,} generated accounts: AUC for the truly at-risk",
           [(m, f"tone {b[m]['tone_auc']:.3f} / health {b[m]['health_auc']:.3f}", "")
            for m in ("word list (before)", "Retain (VADER + CS lexicon)")], first="sentiment")


if __name__ == "__main__":
    main()
