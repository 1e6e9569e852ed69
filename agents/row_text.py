"""What the last answer's records say, quoted ("what did they complain about?"): each distinct text once, cited.

Survey comments, ticket subjects and bodies, notes: the same words from several records are stated once
with every record that carries them (account, date, score), so nothing is paraphrased or invented.
"""

from __future__ import annotations

from typing import Any

from agents.state import Finding
from agents.understand.edit_ops import TEXT_FIELDS
from tools.query import ENTITIES, QueryResult


def _said(r: dict[str, Any], fields: tuple[str, ...]) -> str:
    return " \u2014 ".join(str(r[k]).strip() for k in fields if r.get(k))


def _who(r: dict[str, Any], date_field: str | None) -> str:
    bits = [str(r[date_field])[:10]] if date_field and r.get(date_field) else []
    if r.get("score") is not None:
        bits.append(f"score {float(r['score']):g}")
    if r.get("contact"):
        bits.append(str(r["contact"]))
    return f"{r['account']}" + (f" ({', '.join(bits)})" if bits else "")


def state(f: Finding, res: QueryResult, scope: str) -> None:
    """One fact per distinct text, most often said first, naming and citing every record that said it."""
    ent = res.query.entity
    fields = tuple(k for k in TEXT_FIELDS.get(ent, ()) if k in res.columns)
    said: dict[str, list[dict[str, Any]]] = {}
    for r in res.rows:
        said.setdefault(_said(r, fields), []).append(r)
    silent = said.pop("", [])
    noun = {"surveys": "responses", "activities": "notes"}.get(ent, ent.replace("_", "-"))
    things = f"{len(said)} different thing{'s' if len(said) != 1 else ''} said"
    f.fact(f"{res.total} {noun if res.total != 1 else noun.rstrip('s')} in {scope}: {things}" +
           (f"; {len(silent)} said nothing in writing" if silent else ""), *[r["source"] for r in res.rows[:1]],
           kind="count")
    date_field = ENTITIES[ent].date_field
    for text, rs in sorted(said.items(), key=lambda kv: -len(kv[1]))[:15]:
        f.fact(f"\u201c{text[:600]}\u201d: {len(rs)} {noun if len(rs) != 1 else noun.rstrip('s')}, "
               + "; ".join(_who(r, date_field) for r in rs[:8]) + (f" and {len(rs) - 8} more" if len(rs) > 8 else ""),
               *[r["source"] for r in rs[:8]], kind="row")
