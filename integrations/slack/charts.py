"""Charts a CSM would rather look at than read, rendered with matplotlib (no display needed)."""

from __future__ import annotations

import io
from datetime import timedelta

from tools import crm
from tools.features import compute_features
from tools.health import score


def health_trend_png(ctx: crm.ToolContext, account_id: int, weeks: int = 13) -> bytes:
    """A PNG of the account's weekly health score over the last quarter, with the band lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days, scores = [], []
    for k in range(weeks, -1, -1):
        day = ctx.as_of - timedelta(days=7 * k)
        feats = compute_features(ctx.store, day, [account_id])
        if feats.empty:
            continue
        days.append(day)
        scores.append(float(score(ctx.card, feats).score.iloc[0]))
    name = crm.account_overview(ctx, account_id)["name"]
    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=110)
    ax.axhspan(ctx.card.bands.get("green", 75), 100, color="#d8f3dc", zorder=0)
    ax.axhspan(ctx.card.bands.get("yellow", 55), ctx.card.bands.get("green", 75), color="#fff3bf", zorder=0)
    ax.axhspan(0, ctx.card.bands.get("yellow", 55), color="#ffe3e3", zorder=0)
    ax.plot(days, scores, marker="o", color="#1d3557", linewidth=2, zorder=2)  # type: ignore[arg-type]
    ax.set_ylim(0, 100)
    ax.set_title(f"{name}: health, last {weeks} weeks", fontsize=10)
    ax.tick_params(labelsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
