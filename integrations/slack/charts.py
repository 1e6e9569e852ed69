"""Charts a CSM would rather look at than read, rendered with matplotlib (no display needed)."""

from __future__ import annotations

import io
from datetime import date


def health_trend_png(name: str, days: list[date], scores: list[float], bands: dict[str, float]) -> bytes:
    """A PNG of an account's weekly health scores (from `tools.health.weekly_scores`), with the bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=110)
    ax.axhspan(bands.get("green", 75), 100, color="#d8f3dc", zorder=0)
    ax.axhspan(bands.get("yellow", 55), bands.get("green", 75), color="#fff3bf", zorder=0)
    ax.axhspan(0, bands.get("yellow", 55), color="#ffe3e3", zorder=0)
    ax.plot(days, scores, marker="o", color="#1d3557", linewidth=2, zorder=2)  # type: ignore[arg-type]
    ax.set_ylim(0, 100)
    ax.set_title(f"{name}: health, last {len(days)} weeks", fontsize=10)
    ax.tick_params(labelsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
