"""What one picked record adds beyond its own fields: a fine-tune job's settings, beside the run before it.

"why did the November one fail?" after an account's fine-tunes is answered from that job's own fields (status,
loss, eval score) and its settings next to those of the account's previous successful job, each cited, so a
change of learning rate or warmup is stated from the records, never guessed.
"""

from __future__ import annotations

from typing import Any

from agents.state import Finding
from tools import crm
from tools.query import Query, run

_SETTINGS = (("learning_rate", "learning rate"), ("warmup_steps", "warmup steps"), ("epochs", "epochs"),
             ("batch_size", "batch size"))


def _said(hp: dict[str, Any]) -> str:
    return ", ".join(f"{word} {hp[k]:g}" if isinstance(hp[k], (int, float)) else f"{word} {hp[k]}"
                     for k, word in _SETTINGS if k in hp)


def fine_tune(f: Finding, ctx: crm.ToolContext, row: dict[str, Any]) -> None:
    """The job's settings and, when the account ran one that succeeded before it, what changed since."""
    q = Query(entity="fine_tunes", account_ids=[int(row["account_id"])],
              fields=["created_on", "status", "hyperparameters", "eval_score", "base_model"])
    jobs = sorted(run(ctx, q).rows, key=lambda r: (str(r["created_on"]), int(r["source"]["id"])))
    me = next((j for j in jobs if j["source"]["id"] == row["source"]["id"]), None)
    if me is None or not isinstance(me.get("hyperparameters"), dict):
        return
    hp = me["hyperparameters"]
    before = [j for j in jobs[:jobs.index(me)] if j.get("status") == "succeeded" and
              isinstance(j.get("hyperparameters"), dict)]
    if _said(hp):
        f.fact(f"Settings of the {me['created_on']} job: {_said(hp)}", me["source"], kind="lookup")
    if not before:
        return
    prev = before[-1]
    php = prev["hyperparameters"]
    changed = []
    for k, word in _SETTINGS:
        a, b = php.get(k), hp.get(k)
        if a == b or a is None or b is None:
            continue
        times = f" ({b / a:.0f}x)" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a and \
            b / a >= 2 else ""
        changed.append(f"{word} {a:g} -> {b:g}{times}" if isinstance(a, (int, float)) and isinstance(b, (int, float))
                       else f"{word} {a} -> {b}")
    score = f", eval score {float(prev['eval_score']):.3f}" if prev.get("eval_score") is not None else ""
    f.fact(f"Compared with the previous successful job ({prev['created_on']}{score}): " +
           ("; ".join(changed) if changed else "the same settings"), prev["source"], me["source"], kind="lookup")
