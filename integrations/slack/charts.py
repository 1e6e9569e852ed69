r"""Charts a CSM would rather look at than read, rendered with matplotlib (no display needed).

Names in a chart are data: every text drawn from them is plain (`parse_math=False`, never TeX), so
an account called `Evil $\undefinedmacro$ Co` is drawn as those characters, not parsed as mathtext.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

PLAIN: dict[Any, Any] = {"text.usetex": False, "text.parse_math": False}  # whatever the host's matplotlibrc says


def health_trend_png(name: str, days: list[date], scores: list[float], bands: dict[str, float]) -> bytes:
    """A PNG of an account's weekly health scores (from `tools.health.weekly_scores`), with the bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(PLAIN):
        return _health_trend(plt, name, days, scores, bands)


def _health_trend(plt: Any, name: str, days: list[date], scores: list[float], bands: dict[str, float]) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=110)
    ax.axhspan(bands.get("green", 75), 100, color="#d8f3dc", zorder=0)
    ax.axhspan(bands.get("yellow", 55), bands.get("green", 75), color="#fff3bf", zorder=0)
    ax.axhspan(0, bands.get("yellow", 55), color="#ffe3e3", zorder=0)
    ax.plot(days, scores, marker="o", color="#1d3557", linewidth=2, zorder=2)  # type: ignore[arg-type]
    ax.set_ylim(0, 100)
    ax.set_title(f"{name}: health, last {len(days)} weeks", fontsize=10, parse_math=False)
    ax.tick_params(labelsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


BAND_COLOUR = {"green": "#2b9348", "yellow": "#e9c46a", "red": "#d62828"}


def portfolio_png(at_risk: list[dict[str, Any]], renewals: list[dict[str, Any]], title: str) -> bytes:
    """A briefing's picture: health of the accounts at risk (bars) beside the renewals ahead (days x ARR)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(PLAIN):
        return _portfolio(plt, at_risk, renewals, title)


def _portfolio(plt: Any, at_risk: list[dict[str, Any]], renewals: list[dict[str, Any]], title: str) -> bytes:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), dpi=110)
    rows = sorted(at_risk, key=lambda r: r["score"])[:12]
    left.barh(range(len(rows)), [r["score"] for r in rows],
              color=[BAND_COLOUR.get(r.get("band", "red"), "#d62828") for r in rows])
    left.set_yticks(range(len(rows)), labels=[str(r["account"]) for r in rows], parse_math=False)
    left.set_xlim(0, 100)
    left.invert_yaxis()
    left.set_title("Health, accounts at risk" if rows else "No accounts at risk", fontsize=9)
    left.tick_params(labelsize=7)
    right.scatter([r["days"] for r in renewals], [r["arr"] / 1000 for r in renewals],
                  c=[BAND_COLOUR.get(r.get("band", "green"), "#2b9348") for r in renewals], s=28)
    for r in renewals[:10]:
        right.annotate(str(r["account"]), (r["days"], r["arr"] / 1000), fontsize=6, xytext=(3, 2),
                       textcoords="offset points", parse_math=False)
    right.set_xlim(0, 92)
    right.set_xlabel("days to renewal", fontsize=8)
    right.set_ylabel("ARR ($k)", fontsize=8)
    right.set_title("Renewals in the next 90 days" if renewals else "No renewals in 90 days", fontsize=9)
    right.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10, parse_math=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
