"""How a health score and a rate are written in every answer (cards, lists, lookups, reading lines).

A health score is stored with one decimal and shown as stored (50.6, never "51": a 50.6 and a 51.4 are not the
same score). A rate is shown with the precision its size needs: a whole percent from 10%, one decimal from 1%,
two significant digits under 1% (an error rate of 0.008 is "0.8%", never "1%"; 0.0085 is "0.85%").
"""

from __future__ import annotations


def score(v: float) -> str:
    """A health score, one decimal as stored: "50.6", "98.2", "86.0"."""
    return f"{float(v):.1f}"


def percent(fraction: float, signed: bool = False) -> str:
    """A fraction as a percentage with the precision its size needs ("44%", "1.3%", "0.85%", "0%")."""
    x = float(fraction) * 100
    a = abs(x)
    text = "0" if a == 0 else f"{x:.0f}" if a >= 9.95 else f"{round(x, 1):g}" if a >= 0.995 else f"{x:.2g}"
    return (f"+{text}" if signed and x > 0 else text) + "%"
