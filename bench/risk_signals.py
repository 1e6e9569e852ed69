"""Qualitative risk signals: the detector's precision and recall on labelled sentences, per split.

tests/data/risk_signals.yaml holds CSM-style sentences labelled with the signal they carry (competitor,
budget, reorg, disengaged, review, cancel) or none (including negated and resolved mentions), split
dev / held. The lexicon in configs/risk_signals.yaml was written and tuned on dev; held was written
before the detector existed and not tuned against. A sentence counts as found when the detector
returns its labelled kind; a false positive is any kind returned for a sentence not labelled with it.
Run with the embedding model too (`--embed`) to measure what its nearest examples add.

    uv run python -m bench.risk_signals [--embed] [--split held] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from tools import risk_signals

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "risk_signals.yaml"


def score(rows: list[dict[str, Any]], embed: risk_signals.Embed | None = None) -> dict[str, Any]:
    """Micro precision and recall over signal kinds, per-kind recall, and the misses and false alarms."""
    hits = risk_signals.detect([r["text"] for r in rows], embed=embed)
    tp = fp = fn = 0
    per: dict[str, list[int]] = {}
    wrong: list[dict[str, Any]] = []
    for r, found in zip(rows, hits, strict=True):
        kinds = {h.kind for h in found}
        want = r["kind"]
        if want != "none":
            per.setdefault(want, [0, 0])[1] += 1
            if want in kinds:
                tp += 1
                per[want][0] += 1
            else:
                fn += 1
        extra = kinds - {want}
        fp += len(extra)
        if (want != "none" and want not in kinds) or extra:
            wrong.append({"text": r["text"], "want": want, "got": sorted(kinds)})
    return {"sentences": len(rows), "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
            "recall_by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per.items())}, "wrong": wrong}


def _embedder() -> risk_signals.Embed:
    from core.settings import load_settings
    from integrations.embeddings import LlamaCppEmbedding
    from integrations.gguf import require

    return LlamaCppEmbedding(str(require(load_settings(), "embedding")))


def main() -> None:
    """Print (or write as JSON) the scores per split."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "held", "all"], default="all")
    ap.add_argument("--embed", action="store_true", help="also use the embedding model's nearest examples")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = yaml.safe_load(LABELLED.read_text())
    embed = _embedder() if args.embed else None
    splits = ["dev", "held"] if args.split == "all" else [args.split]
    out = {s: score([r for r in rows if r["split"] == s], embed) for s in splits}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for s, v in out.items():
        print(f"{s}: {v['sentences']} sentences, precision {v['precision']:.0%}, recall {v['recall']:.0%}, "
              f"by kind {v['recall_by_kind']}")
        for w in v["wrong"]:
            print(f"   want {w['want']:<10} got {','.join(w['got']) or '-':<20} {w['text']}")


if __name__ == "__main__":
    main()
