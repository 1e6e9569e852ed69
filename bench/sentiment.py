"""Sentiment: Retain's model against the word list it replaced and plain VADER, on labelled CSM text.

tests/data/sentiment.yaml: 120 CSM-style sentences (notes, ticket text, survey comments), 40 each
positive / neutral / negative, split dev / held. The customer-success lexicon was chosen on dev;
held was not looked at while choosing it. Reports accuracy, macro-F1 and the AUC of telling
negative text from the rest, per split, and writes bench/sentiment.json.

    uv run python -m bench.sentiment [--json]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.metrics import f1_score, roc_auc_score
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bench.report import report
from tools import sentiment

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


def main() -> None:
    """Print the figures (and keep them in bench/sentiment.json)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--json", action="store_true")
    a, _ = p.parse_known_args()
    r = run()
    (ROOT / "bench" / "sentiment.json").write_text(json.dumps(r, indent=1) + "\n")
    rows = [(f"{name}: {split}", " / ".join(f"{m[split][k]:.3f}" for k in ("accuracy", "macro_f1", "negative_auc")),
             "") for name, m in r["models"].items() for split in ("held", "dev")]
    report(r, a.json, f"Sentiment on {r['sentences']} labelled CSM sentences (accuracy / macro-F1 / negative AUC)",
           rows, first="model: split")


if __name__ == "__main__":
    main()
